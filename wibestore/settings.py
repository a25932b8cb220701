"""Settings: one object, read from the environment once (README "Configuration", .env.example).

Every default is written once, on its field. ``from_env`` reads each field from the variable of
the same name in upper case (``redis_timeout`` <- ``REDIS_TIMEOUT``), or from the names in
``ENV_NAMES`` (aliases in order); an unset or empty variable keeps the field's default, or the
derived default in ``DERIVED`` (tasks run eagerly without Redis, say). This is the one module
that reads ``os.environ``; development secrets are written under the data dir only when
``from_env`` runs, never at import.
"""

from __future__ import annotations

import os
import secrets
import types
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Union, get_args, get_origin
from urllib.parse import unquote, urlsplit

import msgspec


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    environment: str = "development"
    data_dir: Path = Path("var")
    database_url: str | None = None  # postgresql://user:pass@host:port/db -> production storage
    database_schema: str = "public"
    read_schema: str = "read"
    redis_url: str | None = None
    redis_timeout: float = 0.2  # per attempt (connect, answer); at most 4 attempts a call
    # before every key this deployment writes in Redis (counters, idempotency records, Celery's
    # queues), so deployments or test runs can share one Redis database without meeting
    redis_key_prefix: str = ""
    celery_eager: bool = True  # from the environment: true without REDIS_URL
    run_projectors: bool = True  # in the API process; production runs `wibestore project`
    jwt_secret: str = ""
    access_minutes: int = 15
    refresh_minutes: int = 10080
    credentials_key: str = ""
    cors_origins: tuple[str, ...] = ("http://localhost:5173", "http://localhost:3000")
    mailer: str = "console"
    mail_dir: Path | None = None
    smtp_url: str | None = None
    mail_from: str = "WibeStore <no-reply@wibestore.uz>"
    frontend_url: str = "https://wibestore.uz"
    telegram_bot_secret: str = ""  # the bot's `secret_key` (A13); empty: nobody gets codes
    telegram_code_minutes: float = 10  # a Telegram sign-in code's lifetime (CONTRACT §3.12)
    sms_code_minutes: float = 5  # a texted phone-verification code's lifetime (A11)
    sms_sender: str = "console"  # "console" (logs the text) or "file" (one file per text)
    sms_dir: Path | None = None  # the file sender's directory; default: <data_dir>/sms
    google_client_ids: tuple[str, ...] = ()
    google_certs_url: str = "https://www.googleapis.com/oauth2/v1/certs"
    google_userinfo_url: str = "https://www.googleapis.com/oauth2/v3/userinfo"
    login_max_failures: int = 5
    login_lock_seconds: int = 900
    login_account_max_failures: int = 20  # per e-mail, across addresses (adapters/throttle.py)
    trusted_proxies: tuple[str, ...] = ()  # CIDRs whose X-Forwarded-For is believed
    read_your_writes_timeout: float = 2.0
    projection_batch_size: int = 1000
    media_root: Path | None = None  # default: <data_dir>/media
    rate_limits: str = ""  # "anon=30,user=100,uploads=20,auth=10,chat=30" (default) or "off"
    postgres_pool_size: int = 10  # event store: connections kept open (psycopg_pool min_size)
    postgres_max_overflow: int = 10  # event store: more connections opened under load
    postgres_pool_timeout: int = 5  # seconds a command waits for an event-store connection
    read_pool_size: int = 10  # read models: connections kept open by SQLAlchemy's pool
    read_max_overflow: int = 20  # read models: more connections opened under load
    database_retry_after: int = 5  # Retry-After (seconds) of a 503 while PostgreSQL is down
    escrow_delivery_hours: float = 24  # the seller's deadline to deliver; then a refund
    escrow_auto_release_hours: float = 24  # after delivery; then released to the seller
    payment_webhook_secret: str = ""  # HMAC-SHA256 key of provider webhooks
    payment_provider: str = "sandbox"  # "sandbox" or "none" (deposits off); production: "none"
    allow_sandbox_payments_in_production: bool = False  # a staging deployment's play money
    production_ledger: bool = False  # the audit fails sandbox- or demo-credited deposits
    health_token: str = ""  # shows /health/detailed/ in full to monitoring (staff see it too)
    host: str = "127.0.0.1"  # `wibestore serve`: the address to listen on
    port: int = 8000
    web_concurrency: int = 1  # uvicorn worker processes

    def __post_init__(self) -> None:
        """Checked however the settings are made (the environment, a test, a script)."""
        if self.payment_provider not in PAYMENT_PROVIDERS:
            raise RuntimeError(
                f"PAYMENT_PROVIDER must be one of {', '.join(PAYMENT_PROVIDERS)}, "
                f"not {self.payment_provider!r}"
            )
        if self.sandbox_payments_in_production and not self.allow_sandbox_payments_in_production:
            raise RuntimeError(
                "production refuses PAYMENT_PROVIDER=sandbox: its checkout link credits any "
                "deposit without a payment. Use PAYMENT_PROVIDER=none (deposits off) or, for a "
                "deployment whose money is not real, ALLOW_SANDBOX_PAYMENTS_IN_PRODUCTION=true"
            )

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def sandbox_payments_in_production(self) -> bool:
        """Production with the sandbox provider: its checkout link credits any deposit without
        a payment. Only ALLOW_SANDBOX_PAYMENTS_IN_PRODUCTION lets it start."""
        return self.is_production and self.payment_provider == "sandbox"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings of this process (``os.environ``, or ``env``). Production refuses to
        start without its secrets; development makes them once and keeps them under the data
        dir, so tokens survive a restart."""
        env = dict(os.environ if env is None else env)
        values: dict[str, Any] = {}
        for field in msgspec.structs.fields(cls):
            raw = next((env[n] for n in env_names(field.name) if env.get(n)), None)
            if raw is not None:
                values[field.name] = _parse(field.type, raw)
            elif field.name in DERIVED:
                values[field.name] = DERIVED[field.name](values)
            else:
                values[field.name] = field.default
        if values["environment"] == "production":
            missing = [env_names(name)[0] for name in REQUIRED_IN_PRODUCTION if not values[name]]
            if missing:
                raise RuntimeError(f"production needs {', '.join(missing)} in the environment")
        else:
            for name in LOCAL_SECRETS:
                values[name] = values[name] or _local_secret(values["data_dir"], name)
        return cls(**values)

    def event_store_env(self) -> dict[str, str]:
        """The eventsourcing library's own settings for the Marketplace application.

        Aggregates are cached and fast-forwarded from the store on every load, so a command
        reads only the events it has not seen (safe across processes: the store decides).
        """
        cache = {"AGGREGATE_CACHE_MAXSIZE": "10000", "AGGREGATE_CACHE_FASTFORWARD": "y"}
        if self.database_url is None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            return {
                **cache,
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(self.data_dir / "events.sqlite"),
                "SQLITE_LOCK_TIMEOUT": "10",
            }
        url = urlsplit(self.database_url)
        return {
            **cache,
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": url.path.lstrip("/") or "postgres",
            "POSTGRES_HOST": url.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": unquote(url.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(url.password or ""),
            "POSTGRES_SCHEMA": self.database_schema,
            "POSTGRES_POOL_SIZE": str(self.postgres_pool_size),
            "POSTGRES_MAX_OVERFLOW": str(self.postgres_max_overflow),
            # how long a connection may be waited for; the library's own default is 30 s, and
            # it retries 10 times: a command would hang for minutes while the server is down
            "POSTGRES_CONNECT_TIMEOUT": str(self.postgres_pool_timeout),
            "POSTGRES_LOCK_TIMEOUT": "5",
        }

    @property
    def media_dir(self) -> Path:
        return self.media_root or self.data_dir / "media"

    def read_model_url(self) -> str:
        if self.database_url is None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            return f"sqlite:///{self.data_dir / 'read.sqlite'}"
        return "postgresql+psycopg://" + self.database_url.split("://", 1)[1]


PAYMENT_PROVIDERS = ("sandbox", "none")

# Fields read from other names than their own in upper case; the first name is the documented one.
ENV_NAMES: dict[str, tuple[str, ...]] = {
    "environment": ("WIBESTORE_ENV",),
    "data_dir": ("WIBESTORE_DATA_DIR",),
    "jwt_secret": ("JWT_SECRET", "SECRET_KEY"),
    "access_minutes": ("JWT_ACCESS_TOKEN_LIFETIME",),
    "refresh_minutes": ("JWT_REFRESH_TOKEN_LIFETIME",),
    "cors_origins": ("CORS_ALLOWED_ORIGINS",),
    "google_client_ids": ("GOOGLE_CLIENT_IDS", "GOOGLE_CLIENT_ID"),
    "telegram_bot_secret": ("TELEGRAM_BOT_SECRET", "BOT_SECRET_KEY"),
}

# Defaults that depend on fields read before them (in field order), when the variable is unset.
DERIVED: dict[str, Callable[[dict[str, Any]], Any]] = {
    "celery_eager": lambda v: v["redis_url"] is None,
    "payment_provider": lambda v: "none" if v["environment"] == "production" else "sandbox",
    "production_ledger": lambda v: (
        v["environment"] == "production" and v["payment_provider"] != "sandbox"
    ),
}

REQUIRED_IN_PRODUCTION = ("jwt_secret", "database_url", "credentials_key", "payment_webhook_secret")
LOCAL_SECRETS = (  # development only
    "jwt_secret",
    "credentials_key",
    "payment_webhook_secret",
    "telegram_bot_secret",
)


def env_names(field: str) -> tuple[str, ...]:
    return ENV_NAMES.get(field, (field.upper(),))


def _parse(kind: Any, raw: str) -> Any:
    """A variable's text as the field's type (``X | None`` as ``X``)."""
    if get_origin(kind) in (Union, types.UnionType):
        kind = next(k for k in get_args(kind) if k is not type(None))
    if kind is bool:
        return _flag(raw)
    if get_origin(kind) is tuple:
        return _list(raw)
    return kind(raw)  # str, int, float, Path


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "y", "on"}


def _list(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


def _local_secret(data_dir: Path, name: str) -> str:
    """A development secret kept under the data dir, so tokens survive a restart."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()
