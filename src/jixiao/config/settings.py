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
# JIXIAO_PRODUCTION=1 refuses to start with DEBUG, a short or published secret key (here) and demo
# accounts (config/wsgi.py, web/checks.py), and turns on HTTPS-only cookies, redirects and HSTS.
PRODUCTION = env_bool("JIXIAO_PRODUCTION", False)
if PRODUCTION:
    from jixiao.config.production import refuse, settings_problems

    refuse(settings_problems(debug=DEBUG, secret_key=SECRET_KEY))
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])
# PDFs need a CJK font (web/fonts.py): production refuses to start without one; tests and the demo
# do not require it (a developer machine may lack fonts-noto-cjk).
JIXIAO_REQUIRE_CJK_FONT = env_bool("JIXIAO_REQUIRE_CJK_FONT", PRODUCTION)
# /healthz reports the worker stale when no job started for this long (the worker queues the
# rating-link job every minute, so a live worker starts one at least that often).
JIXIAO_HEALTHZ_WORKER_MAX_AGE_SECONDS = env_int("JIXIAO_HEALTHZ_WORKER_MAX_AGE_SECONDS", 600)

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
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "jixiao.accounts",
    "jixiao.organisation",
    "jixiao.schemes",
    "jixiao.facts",
    "jixiao.declarations",
    "jixiao.tracking",
    "jixiao.supervision",
    "jixiao.results",
    "jixiao.evaluations",
    "jixiao.surveys",
    "jixiao.jobs",
    "jixiao.notifications",
    "jixiao.ledger",
    "jixiao.web",
    "jixiao.operations",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before sessions and CSRF read cookies, forms and headers: a NUL there was a 500.
    "jixiao.web.middleware.ControlCharacterMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "jixiao.web.middleware.ChineseFirstMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "jixiao.accounts.middleware.SessionLifetimeMiddleware",
    "jixiao.accounts.middleware.SecondFactorRequiredMiddleware",
    "jixiao.accounts.middleware.PasswordChangeRequiredMiddleware",
    "jixiao.accounts.middleware.AdminBoundaryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "jixiao.accounts.middleware.CurrentRequestMiddleware",
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

# Authentication to 等保 level 3 (docs/sm-crypto.md, docs/architecture.md "Authentication").
# Failed logins are counted per (username, client address) by accounts.lockout, not django-axes:
# axes has no growing delay per combination, and a lock by username alone would let anyone lock
# the office out from anywhere.
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
JIXIAO_LOCKOUT_AFTER = env_int("JIXIAO_LOCKOUT_AFTER", 5)  # failures before the first delay
JIXIAO_LOCKOUT_BASE_SECONDS = env_int("JIXIAO_LOCKOUT_BASE_SECONDS", 60)  # doubles per failure
JIXIAO_LOCKOUT_MAX_SECONDS = env_int("JIXIAO_LOCKOUT_MAX_SECONDS", 3600)
# Second factor (TOTP, django-otp): required for these roles, optional for the others. The
# system administrator is included: it opens accounts, so it is as privileged as the office.
JIXIAO_OTP_REQUIRED_ROLES = env_list(
    "JIXIAO_OTP_REQUIRED_ROLES", ["office", "sysadmin", "secadmin", "auditadmin"]
)
OTP_TOTP_ISSUER = env_str("JIXIAO_OTP_ISSUER", "绩效考核平台")
# Password policy: ≥ 10 characters of at least 3 of the 4 classes, not a common password; the
# privileged roles choose a new one every JIXIAO_PASSWORD_MAX_AGE_DAYS (0 turns expiry off).
JIXIAO_PASSWORD_MAX_AGE_DAYS = env_int("JIXIAO_PASSWORD_MAX_AGE_DAYS", 90)
JIXIAO_PASSWORD_EXPIRY_ROLES = env_list(
    "JIXIAO_PASSWORD_EXPIRY_ROLES", ["office", "sysadmin", "secadmin", "auditadmin"]
)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "jixiao.accounts.validators.CharacterClassesValidator", "OPTIONS": {"min_classes": 3}},
]
# JIXIAO_PASSWORD_HASHER=sm3 hashes new passwords with PBKDF2-HMAC-SM3 (密评); the others stay
# listed so that existing hashes still verify (and are upgraded at the next login).
JIXIAO_PASSWORD_HASHER = env_str("JIXIAO_PASSWORD_HASHER", "pbkdf2_sha256")
if JIXIAO_PASSWORD_HASHER not in {"pbkdf2_sha256", "sm3"}:
    raise ConfigError(f"JIXIAO_PASSWORD_HASHER={JIXIAO_PASSWORD_HASHER} must be pbkdf2_sha256 or sm3")
_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
_SM3_HASHER = "jixiao.accounts.hashers.PBKDF2SM3PasswordHasher"
PASSWORD_HASHERS = [_SM3_HASHER, *_HASHERS] if JIXIAO_PASSWORD_HASHER == "sm3" else [*_HASHERS, _SM3_HASHER]
# Sealed personal data (contacts waiting for a rating link): AES-256-GCM, or SM4-GCM for 密评.
JIXIAO_SEAL_CIPHER = env_str("JIXIAO_SEAL_CIPHER", "aes")
if JIXIAO_SEAL_CIPHER not in {"aes", "sm4"}:
    raise ConfigError(f"JIXIAO_SEAL_CIPHER={JIXIAO_SEAL_CIPHER} must be aes or sm4")
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
# The offline release ships its static files collected and compressed at build time, one
# directory per release (install.sh sets JIXIAO_STATIC_ROOT=<release>/static; docs/operations.md).
STATIC_ROOT = Path(env_str("JIXIAO_STATIC_ROOT", str(VAR_DIR / "static")))
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
# A session ends after JIXIAO_SESSION_IDLE_MINUTES without a request and, whatever the activity,
# JIXIAO_SESSION_MAX_HOURS after the login (accounts.middleware.SessionLifetimeMiddleware).
JIXIAO_SESSION_IDLE_MINUTES = env_int("JIXIAO_SESSION_IDLE_MINUTES", 30)
JIXIAO_SESSION_MAX_HOURS = env_int("JIXIAO_SESSION_MAX_HOURS", 12)
SESSION_COOKIE_AGE = JIXIAO_SESSION_MAX_HOURS * 3600
SESSION_COOKIE_SECURE = env_bool("JIXIAO_SECURE_COOKIES", PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Secure cookies mean the site is served over HTTPS: then plain HTTP redirects and browsers are told
# (HSTS) never to use HTTP again. Behind a TLS-terminating proxy set JIXIAO_PROXY_SSL_HEADER=1 so
# Django trusts its X-Forwarded-Proto (only when the proxy overwrites that header).
if SESSION_COOKIE_SECURE:
    SECURE_SSL_REDIRECT = env_bool("JIXIAO_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("JIXIAO_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("JIXIAO_HSTS_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("JIXIAO_HSTS_PRELOAD", False)
if env_bool("JIXIAO_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Preloading is for public hostnames listed by browser vendors; an intranet host cannot be listed,
# so the check that asks for it (security.W021) does not apply unless preload is chosen.
SILENCED_SYSTEM_CHECKS = [] if env_bool("JIXIAO_HSTS_PRELOAD", False) else ["security.W021"]
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Content-Security-Policy (django-csp): scripts only from our own static files — no inline script,
# no eval, no other origin (the product runs on intranets with no internet at all). Styles allow
# inline <style> blocks of the self-contained ballot and survey pages; styles cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
    }
}
# A refused form gets a Chinese page in the product's layout, not Django's English one.
CSRF_FAILURE_VIEW = "jixiao.web.errors.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024
# Workbook imports (web.workbooks checks them before any cell is read): the upload's size, its
# total decompressed size, and the extent of the cells holding a value (rows of data below the
# header, columns, and the cells of the rectangle from A1, which is what the reader allocates).
JIXIAO_IMPORT_MAX_BYTES = env_int("JIXIAO_IMPORT_MAX_BYTES", 20 * 1024 * 1024)
# One evidence file of a monthly report or work log (tracking.evidence); stored in STORAGES["default"].
JIXIAO_EVIDENCE_MAX_BYTES = env_int("JIXIAO_EVIDENCE_MAX_BYTES", 20 * 1024 * 1024)
JIXIAO_IMPORT_MAX_UNZIPPED_BYTES = env_int("JIXIAO_IMPORT_MAX_UNZIPPED_BYTES", 300 * 1024 * 1024)
JIXIAO_IMPORT_MAX_ROWS = env_int("JIXIAO_IMPORT_MAX_ROWS", 200_000)
JIXIAO_IMPORT_MAX_COLUMNS = env_int("JIXIAO_IMPORT_MAX_COLUMNS", 200)
JIXIAO_IMPORT_MAX_CELLS = env_int("JIXIAO_IMPORT_MAX_CELLS", 4_000_000)

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
    # Bearer tokens (rating links, ?token=…) never reach a log line (web.logscrub).
    "filters": {"scrub_tokens": {"()": "jixiao.web.logscrub.TokenScrubFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["scrub_tokens"]}
    },
    "loggers": {
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
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
