"""Bearer tokens never reach a log line: the logging filter masks them in paths and queries."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from jixiao.web.logscrub import TokenScrubFilter, scrub

TOKEN = "Zx3kq9VwB7mN2pL5rT8yH1cF4dG6jK0s"


def test_scrub_masks_the_token_of_an_old_rating_link_and_a_poster_link() -> None:
    assert scrub(f'"GET /surveys/r/{TOKEN}/ HTTP/1.1" 302 0') == '"GET /surveys/r/***/ HTTP/1.1" 302 0'
    assert TOKEN not in scrub(f"/surveys/s/{TOKEN}/thanks/")


def test_scrub_masks_authorising_query_parameters_and_long_random_segments() -> None:
    assert scrub(f"/x/?a=1&token={TOKEN}&b=2") == "/x/?a=1&token=***&b=2"
    assert scrub(f"/api/thing/{TOKEN}") == "/api/thing/***"
    assert scrub("/results/entity/12/?run=3") == "/results/entity/12/?run=3"  # ids stay readable


def test_the_filter_rewrites_the_message_with_its_arguments() -> None:
    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"%s" %s %s',
        (f"GET /surveys/r/{TOKEN}/ HTTP/1.1", 302, 0),
        None,
    )
    assert TokenScrubFilter().filter(record)
    assert TOKEN not in record.getMessage() and "/surveys/r/***/" in record.getMessage()


@pytest.mark.django_db
def test_a_logged_request_error_of_a_rating_link_holds_no_token(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("django.request")
    logger.addFilter(scrubber := TokenScrubFilter())
    try:
        with caplog.at_level(logging.WARNING, logger="django.request"):
            Client().get(f"/surveys/s/{TOKEN}/thanks/nope")  # a 404 Django logs with its path
    finally:
        logger.removeFilter(scrubber)
    assert caplog.records, "Django logged the 404"
    assert all(TOKEN not in r.getMessage() for r in caplog.records)


def test_the_settings_put_the_filter_on_the_console_handler_of_every_logger() -> None:
    from django.conf import settings

    console = settings.LOGGING["handlers"]["console"]
    assert "scrub_tokens" in console["filters"]
    assert settings.LOGGING["loggers"]["django.server"]["handlers"] == ["console"]
