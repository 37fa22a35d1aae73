"""Django settings: one file; environments differ only by environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext

from jixiao.config.env import ConfigError, env_bool, env_int, env_list, env_str

# Lets ModelForm[Model], QuerySet[Model] etc. be subscripted at run time, as the type checker wants.
django_stubs_ext.monkeypatch()

SRC_DIR = Path(__file__).resolve().parent.parent
BASE_DIR = SRC_DIR.parent.parent
VAR_DIR = Path(env_str("JIXIAO_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DJANGO_DEBUG", False)
# The demo key only exists so `make demo` works on a fresh clone; production must set its own.
_DEMO_SECRET = "jixiao-demo-only-not-secret-set-DJANGO_SECRET_KEY-in-production"
SECRET_KEY = env_str("DJANGO_SECRET_KEY", _DEMO_SECRET)
if SECRET_KEY == _DEMO_SECRET and env_bool("JIXIAO_PRODUCTION", False):
    raise ConfigError("JIXIAO_PRODUCTION=1 requires DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",  # serves the OpenAPI docs page's assets locally (no CDN on an intranet)
    "axes",
    "jixiao.accounts",
    "jixiao.organisation",
    "jixiao.schemes",
    "jixiao.facts",
    "jixiao.results",
    "jixiao.evaluations",
    "jixiao.surveys",
    "jixiao.jobs",
    "jixiao.notifications",
    "jixiao.ledger",
    "jixiao.web",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "jixiao.web.middleware.ChineseFirstMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "jixiao.accounts.middleware.PasswordChangeRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "jixiao.accounts.middleware.CurrentRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "jixiao.config.urls"
WSGI_APPLICATION = "jixiao.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "jixiao.web.context_processors.navigation",
                "jixiao.notifications.context_processors.unread",
            ],
        },
    },
]

_SQLITE_OPTIONS: dict[str, Any] = {
    "init_command": ("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;"),
    "transaction_mode": "IMMEDIATE",
}


def _database() -> dict[str, Any]:
    url = env_str("DATABASE_URL", "")
    if not url:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "jixiao.sqlite3"),
            "OPTIONS": dict(_SQLITE_OPTIONS),
        }
    config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60)))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = dict(_SQLITE_OPTIONS)
    else:
        # Persistent connections with sync workers measured fastest here (RECIPES.md).
        config["CONN_HEALTH_CHECKS"] = True
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = 1  # hours
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [SRC_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env_str(
            "JIXIAO_STATICFILES_BACKEND",
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage",
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("JIXIAO_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# A refused form gets a Chinese page in the product's layout, not Django's English one.
CSRF_FAILURE_VIEW = "jixiao.web.errors.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024

# Rate-any-time links and public surveys (docs/surveys.md).
JIXIAO_RATING_SENDER = env_str("JIXIAO_RATING_SENDER", "jixiao.surveys.senders.LogSender")
if JIXIAO_RATING_SENDER.endswith(".LogSender") and env_bool("JIXIAO_PRODUCTION", False):
    raise ConfigError(
        "JIXIAO_PRODUCTION=1 requires a real JIXIAO_RATING_SENDER (the log sender sends nothing)"
    )
JIXIAO_PUBLIC_BASE_URL = env_str("JIXIAO_PUBLIC_BASE_URL", "")
JIXIAO_SURVEY_LIMIT_PER_ADDRESS = (env_int("JIXIAO_SURVEY_BURST_PER_ADDRESS", 120), 60)
JIXIAO_SURVEY_LIMIT_PER_DEVICE = (env_int("JIXIAO_SURVEY_BURST_PER_DEVICE", 6), 2)

# Background jobs: one runner for the product (`jixiao worker`: django-tasks' database worker plus
# the periodic jobs; docs/jobs.md). Notifications by e-mail: the console in the demo, SMTP when
# EMAIL_HOST is set; SMS/WeChat through the sender above when listed in JIXIAO_NOTIFY_CHANNELS.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "jixiao@localhost")
JIXIAO_NOTIFY_CHANNELS = env_list("JIXIAO_NOTIFY_CHANNELS", ["email"])
if not set(JIXIAO_NOTIFY_CHANNELS) <= {"email", "sms", "wechat"}:
    raise ConfigError(f"JIXIAO_NOTIFY_CHANNELS={JIXIAO_NOTIFY_CHANNELS} may list only email, sms, wechat")

# A 500 must never be silent: with DEBUG off Django logs nothing unless django.request has a handler.
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "django.security": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "jixiao": {"handlers": ["console"], "level": env_str("JIXIAO_LOG_LEVEL", "INFO")},
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
}

# Audit retention (等保三级 / 《网络安全法》: at least six months); older entries are archived by
# jixiao.ledger.services.audit_archive, which refuses anything below 180 days.
JIXIAO_AUDIT_RETENTION_DAYS = env_int("JIXIAO_AUDIT_RETENTION_DAYS", 190)
if JIXIAO_AUDIT_RETENTION_DAYS < 180:
    raise ConfigError("JIXIAO_AUDIT_RETENTION_DAYS must be at least 180 (six months)")
