"""Configuration read from environment variables, with safe development defaults."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

DEV_SECRET_KEY = "dev-secret-key-change-me"  # noqa: S105 - refused in production
PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_PATH = PROJECT_ROOT / "instance"
FLUTTERWAVE_URL = "https://api.flutterwave.com"
# DEV mode with no Flutterwave keys: payments go to the local fake Flutterwave
# (portal/devtools/fake_flutterwave.py, started by `make run`) with these test keys.
FAKE_FLUTTERWAVE_URL = "http://127.0.0.1:5001"
FAKE_FLUTTERWAVE_SECRET_KEY = "FLWSECK_TEST-gatehouse-fake-X"  # noqa: S105 - DEV only
FAKE_FLUTTERWAVE_PUBLIC_KEY = "FLWPUBK_TEST-gatehouse-fake-X"
FAKE_FLUTTERWAVE_SECRET_HASH = "gatehouse-fake-webhook-hash"  # noqa: S105 - DEV only


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _maybe_bool(name: str) -> bool | None:
    value = os.environ.get(name)
    return None if value is None or not value.strip() else _bool(name, False)


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def engine_options(database_url: str) -> dict:
    """Connection pool settings for the database URL.

    Every engine pings a pooled connection before handing it out (`pool_pre_ping`): one
    short round trip per request, so that a database restart or failover never shows a
    guard a 500. On PostgreSQL connections are also recycled after 30 minutes (below
    server-side idle timeouts and proxies' cut-offs)."""
    if database_url.startswith(("postgresql", "postgres:")):
        return {"pool_pre_ping": True, "pool_recycle": 1800}
    return {"pool_pre_ping": True}


def apply_engine_options(config: dict) -> None:
    """Fit the pool options to the final database URL (after create_app's overrides),
    unless they were set explicitly."""
    defaults = engine_options(str(from_environment_url()))
    if config.get("SQLALCHEMY_ENGINE_OPTIONS") == defaults:
        config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(str(config.get("SQLALCHEMY_DATABASE_URI", "")))


def from_environment_url() -> str:
    return os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE_PATH / 'gatehouse.db'}"


def from_environment() -> dict:
    """Every setting the portal reads, each from an environment variable."""
    env = os.environ.get("GATEHOUSE_ENV", "development").lower()
    database_url = from_environment_url()
    redis_url = os.environ.get("REDIS_URL") or None
    dev_mode = _bool("GATEHOUSE_DEV_MODE", env != "production")
    return {
        "ENV_NAME": env,
        "SECRET_KEY": os.environ.get("SECRET_KEY", DEV_SECRET_KEY),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url),
        "REDIS_URL": redis_url,
        # DEV mode: one-time codes shown on screen, mail and SMS kept in the outbox page.
        "DEV_MODE": dev_mode,
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        # Redis down: count in this process's memory (a warning is logged) and keep serving;
        # Redis is tried again as requests come in. Short timeouts: a lost Redis host must
        # not hold a sign-in for long.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1} if redis_url else {},
        "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", True),
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_KEY_PREFIX": "gatehouse",
        "AUTH_RATE_LIMIT": os.environ.get("AUTH_RATE_LIMIT", "5 per minute"),
        "PROXY_FIX_HOPS": _int("PROXY_FIX_HOPS", 0),
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", env == "production"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", env == "production"),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # Offline scans replayed by a gate device: believable from its last contact with
        # the server (less the skew), and at most this old (seconds).
        "OFFLINE_MAX_AGE": _int("OFFLINE_MAX_AGE", 24 * 60 * 60),
        "OFFLINE_CLOCK_SKEW": _int("OFFLINE_CLOCK_SKEW", 5 * 60),
        "REMEMBER_COOKIE_DURATION": 60 * 60 * 24 * _int("REMEMBER_DAYS", 30),
        "WTF_CSRF_TIME_LIMIT": None,
        # Uploads (CSV imports cap themselves lower); larger requests get a translated 413.
        "MAX_CONTENT_LENGTH": _int("MAX_CONTENT_LENGTH", 10 * 1024 * 1024),
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "BABEL_TRANSLATION_DIRECTORIES": str(PROJECT_ROOT / "translations"),
        "LANGUAGES": ["en", "es"],
        # Email by SMTP (portal/integrations/email.py, Flask-Mailman) when MAIL_SERVER is set.
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": _int("MAIL_PORT", 25),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS", False),
        "MAIL_USE_SSL": _bool("MAIL_USE_SSL", False),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_TIMEOUT": _int("MAIL_TIMEOUT", 20),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "Gatehouse <no-reply@gatehouse.test>"),
        # SMS providers tried in order (JSON list; portal/integrations/settings.py).
        "SMS_PROVIDERS": os.environ.get("SMS_PROVIDERS", ""),
        # Seconds an SMS provider gets to accept a connection, and again to answer (portal/integrations/sms/).
        "SMS_TIMEOUT": float(os.environ.get("SMS_TIMEOUT") or 10),
        # Fernet keys (comma-separated) for the provider settings kept in the database
        # (portal/integrations/keys.py): the first encrypts, every one decrypts. Required in
        # production; elsewhere a key derived from SECRET_KEY stands in.
        "INTEGRATION_KEYS": os.environ.get("INTEGRATION_KEYS", ""),
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", ""),
        # Web push (portal/integrations/push.py): on when set, else on with keys or in DEV mode.
        "PUSH_ENABLED": _maybe_bool("PUSH_ENABLED"),
        "VAPID_PUBLIC_KEY": os.environ.get("VAPID_PUBLIC_KEY", "").strip(),
        "VAPID_PRIVATE_KEY": os.environ.get("VAPID_PRIVATE_KEY", "").strip(),
        "VAPID_SUBJECT": os.environ.get("VAPID_SUBJECT", "").strip(),
        # DEV mode without keys: a pair made once and kept here (never in the repository).
        "VAPID_KEYS_FILE": os.environ.get("VAPID_KEYS_FILE", str(INSTANCE_PATH / "vapid-keys.json")),
        "PUSH_TIMEOUT": _int("PUSH_TIMEOUT", 10),
        # Called after each commit with the ids of the outbox messages it wrote ("module:callable").
        "MESSAGE_DELIVERY": os.environ.get("MESSAGE_DELIVERY", "portal.integrations.delivery:queue"),
        # Milliseconds a web process gathers committed ids before handing them over together
        # (one enqueue for many gate scans at a busy moment: about a tenth of a scan's cost);
        # 0: at once, in the committing request.
        "MESSAGE_DELIVERY_COALESCE_MS": _int("MESSAGE_DELIVERY_COALESCE_MS", 50),
        # Background jobs (portal/jobs.py): on Redis when REDIS_URL is set, else in this SQLite file.
        "JOBS_SQLITE_PATH": os.environ.get("JOBS_SQLITE_PATH", str(INSTANCE_PATH / "jobs.db")),
        "JOBS_IMMEDIATE": _bool("JOBS_IMMEDIATE", False),  # run each job at once in the caller (tests)
        **flutterwave_settings(dev_mode),
        "OTP_TTL_SECONDS": 300,
        "OTP_MAX_ATTEMPTS": 5,
        "PASSWORD_RESET_TTL_SECONDS": 3600,
        # Kiosk API bearer tokens (POST /api/v1/kiosk/token): lifetime in seconds.
        "KIOSK_TOKEN_TTL": _int("KIOSK_TOKEN_TTL", 3600),
    }


def flutterwave_settings(dev_mode: bool) -> dict:
    """FLUTTERWAVE_* (portal/billing/flutterwave.py). In DEV mode without a secret key, the
    local fake Flutterwave and its test keys; otherwise Flutterwave itself."""
    secret_key = os.environ.get("FLUTTERWAVE_SECRET_KEY", "")
    fake = dev_mode and not secret_key
    return {
        "FLUTTERWAVE_BASE_URL": os.environ.get("FLUTTERWAVE_BASE_URL")
        or (FAKE_FLUTTERWAVE_URL if fake else FLUTTERWAVE_URL),
        "FLUTTERWAVE_SECRET_KEY": secret_key or (FAKE_FLUTTERWAVE_SECRET_KEY if fake else ""),
        "FLUTTERWAVE_PUBLIC_KEY": os.environ.get("FLUTTERWAVE_PUBLIC_KEY")
        or (FAKE_FLUTTERWAVE_PUBLIC_KEY if fake else ""),
        "FLUTTERWAVE_SECRET_HASH": os.environ.get("FLUTTERWAVE_SECRET_HASH")
        or (FAKE_FLUTTERWAVE_SECRET_HASH if fake else ""),
        "FLUTTERWAVE_TIMEOUT": _int("FLUTTERWAVE_TIMEOUT", 20),
        # An estate with a Flutterwave account of its own: a JSON object of estate slug →
        # {"secret_key", "secret_hash", "public_key", "base_url"} (missing ones: the platform's).
        "FLUTTERWAVE_ESTATES": _flutterwave_estates(os.environ.get("FLUTTERWAVE_ESTATES", "")),
    }


def _flutterwave_estates(text: str) -> dict[str, dict[str, str]]:
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError as error:
        raise ConfigError(f"FLUTTERWAVE_ESTATES is not JSON: {error}") from error
    if not isinstance(value, dict) or not all(isinstance(keys, dict) for keys in value.values()):
        raise ConfigError("FLUTTERWAVE_ESTATES must be a JSON object of estate slug → object of keys")
    return {str(slug): {str(k): str(v) for k, v in keys.items()} for slug, keys in value.items()}


class ConfigError(RuntimeError):
    """The configuration is unsafe or incomplete."""


def check(config: dict) -> None:
    """Refuse to start in production with development settings, or anywhere with keys
    (integration keys, VAPID keys) that cannot work."""
    _check_integration_keys(config)
    from portal.integrations import push

    if push.enabled(config) and (config.get("VAPID_PUBLIC_KEY") or config.get("VAPID_PRIVATE_KEY")
                                 or config.get("ENV_NAME") == "production"):
        production = config.get("ENV_NAME") == "production"
        subject = config.get("VAPID_SUBJECT") or ("" if production else push.DEV_SUBJECT)
        problem = push.problem_with(config.get("VAPID_PUBLIC_KEY") or "", config.get("VAPID_PRIVATE_KEY") or "",
                                    subject)
        if problem:
            raise ConfigError(f"Web push is on but {problem}; or turn it off with PUSH_ENABLED=0.")
    if config.get("ENV_NAME") == "production":
        if not config.get("SECRET_KEY") or config["SECRET_KEY"] == DEV_SECRET_KEY:
            raise ConfigError("SECRET_KEY must be set to a secret value in production.")
        if config.get("DEV_MODE"):
            raise ConfigError("GATEHOUSE_DEV_MODE cannot be on in production.")
        _check_flutterwave(config)
        if not str(config.get("INTEGRATION_KEYS") or "").strip(" ,"):
            raise ConfigError(
                "INTEGRATION_KEYS must be set in production: the provider settings (SMS and SMTP keys) are "
                "encrypted with it. Make a key with: python -c \"from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())\"")
        workers = server_workers()
        if workers > 1 and config.get("RATELIMIT_ENABLED") and not config.get("REDIS_URL"):
            raise ConfigError(
                f"gunicorn runs {workers} workers but REDIS_URL is not set: each worker would count "
                "rate limits on its own (sign-in allows workers × AUTH_RATE_LIMIT attempts). "
                "Set REDIS_URL, or run a single worker (--workers 1, with --threads for concurrency)."
            )


def _check_flutterwave(config: dict) -> None:
    """Production never talks to the fake Flutterwave, nor to Flutterwave over plain HTTP, and
    never takes payments whose webhooks it would have to refuse."""
    base_urls = [str(config.get("FLUTTERWAVE_BASE_URL") or FLUTTERWAVE_URL)]
    base_urls += [keys["base_url"] for keys in (config.get("FLUTTERWAVE_ESTATES") or {}).values() if keys.get("base_url")]
    for base_url in base_urls:
        if not base_url.startswith("https://"):
            raise ConfigError(f"FLUTTERWAVE_BASE_URL must be an https:// URL in production (it is {base_url!r}); "
                              "the fake Flutterwave is for DEV mode only.")
    secrets = {config.get("FLUTTERWAVE_SECRET_KEY"), config.get("FLUTTERWAVE_SECRET_HASH")}
    if secrets & {FAKE_FLUTTERWAVE_SECRET_KEY, FAKE_FLUTTERWAVE_SECRET_HASH}:
        raise ConfigError("The fake Flutterwave's test keys cannot be used in production.")
    if config.get("FLUTTERWAVE_SECRET_KEY") and not config.get("FLUTTERWAVE_SECRET_HASH"):
        raise ConfigError("FLUTTERWAVE_SECRET_KEY is set but FLUTTERWAVE_SECRET_HASH is not: every Flutterwave "
                          "webhook would be refused. Set the secret hash chosen on Flutterwave's dashboard.")
def _check_integration_keys(config: dict) -> None:
    from cryptography.fernet import Fernet

    keys = [key.strip() for key in str(config.get("INTEGRATION_KEYS") or "").split(",") if key.strip()]
    for number, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError as exc:
            raise ConfigError(f"INTEGRATION_KEYS: key {number} is not a Fernet key (32 url-safe "
                              "base64-encoded bytes, as Fernet.generate_key() makes).") from exc


def server_workers() -> int:
    """How many worker processes the server serving this app runs: gunicorn's `workers`
    (from its command line, GUNICORN_CMD_ARGS, WEB_CONCURRENCY or its config file) when
    the app is loaded by gunicorn, else 1. Gunicorn hands its settings to nobody, so they
    are read from the gunicorn object (worker or arbiter) that is loading the app."""
    if "gunicorn" not in sys.modules:
        return 1
    frame = sys._getframe(1)
    while frame is not None:
        owner = frame.f_locals.get("self")
        if type(owner).__module__.startswith("gunicorn."):
            workers = getattr(getattr(owner, "cfg", None), "workers", None)
            if isinstance(workers, int):
                return workers
        frame = frame.f_back
    return 1
