"""Settings for bench/bench_survey_submit.py only: the project's settings, the bench's URLconf (which
adds a bare "validate and insert one row" view as the baseline), and a per-address limit that never
trips, because every benchmark request comes from 127.0.0.1 (the limiter still runs)."""

from __future__ import annotations

from jixiao.config.settings import *  # noqa: F403
from jixiao.config.settings import DATABASES

ROOT_URLCONF = "survey_bench_urls"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
DATABASES["default"]["CONN_MAX_AGE"] = 60  # persistent connections: fastest with sync workers (RECIPES.md)
JIXIAO_SURVEY_LIMIT_PER_ADDRESS = (10**9, 10.0**9)
