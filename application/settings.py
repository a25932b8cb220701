"""Settings, read once from the environment (see README "Configuration" and .env.example)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
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
    celery_eager: bool = True
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
    google_client_ids: tuple[str, ...] = ()
    google_certs_url: str = "https://www.googleapis.com/oauth2/v1/certs"
    google_userinfo_url: str = "https://www.googleapis.com/oauth2/v3/userinfo"
    login_max_failures: int = 5
    login_lock_seconds: int = 900
    login_account_max_failures: int = 20  # per e-mail, across addresses (application/throttle.py)
    trusted_proxies: tuple[str, ...] = ()  # CIDRs whose X-Forwarded-For is believed
    read_your_writes_timeout: float = 2.0
    projection_batch_size: int = 1000
    media_root: Path | None = None  # default: <data_dir>/media
    rate_limits: str = ""  # "anon=30,user=100,uploads=20,auth=10" (the default) or "off"
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
    def uses_postgres(self) -> bool:
        return self.database_url is not None

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def sandbox_payments_in_production(self) -> bool:
        """Production with the sandbox provider: its checkout link credits any deposit without
        a payment. Only ALLOW_SANDBOX_PAYMENTS_IN_PRODUCTION lets it start."""
        return self.is_production and self.payment_provider == "sandbox"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        data_dir = Path(env.get("WIBESTORE_DATA_DIR", "var"))
        environment = env.get("WIBESTORE_ENV", "development")
        database_url = env.get("DATABASE_URL") or None
        jwt_secret = env.get("JWT_SECRET") or env.get("SECRET_KEY") or ""
        credentials_key = env.get("CREDENTIALS_KEY", "")
        webhook_secret = env.get("PAYMENT_WEBHOOK_SECRET", "")
        if environment == "production":
            missing = [
                k
                for k, v in (
                    ("JWT_SECRET", jwt_secret),
                    ("DATABASE_URL", database_url),
                    ("CREDENTIALS_KEY", credentials_key),
                    ("PAYMENT_WEBHOOK_SECRET", webhook_secret),
                )
                if not v
            ]
            if missing:
                raise RuntimeError(f"production needs {', '.join(missing)} in the environment")
        else:
            jwt_secret = jwt_secret or _local_secret(data_dir, "jwt_secret")
            credentials_key = credentials_key or _local_secret(data_dir, "credentials_key")
            webhook_secret = webhook_secret or _local_secret(data_dir, "payment_webhook_secret")
        redis_url = env.get("REDIS_URL") or None
        provider = env.get("PAYMENT_PROVIDER") or (
            "none" if environment == "production" else "sandbox"
        )
        allow_sandbox = _flag(env.get("ALLOW_SANDBOX_PAYMENTS_IN_PRODUCTION"), default=False)
        return cls(
            environment=environment,
            data_dir=data_dir,
            database_url=database_url,
            database_schema=env.get("DATABASE_SCHEMA", "public"),
            read_schema=env.get("READ_SCHEMA", "read"),
            redis_url=redis_url,
            redis_timeout=float(env.get("REDIS_TIMEOUT", "0.2")),
            celery_eager=_flag(env.get("CELERY_EAGER"), default=redis_url is None),
            run_projectors=_flag(env.get("RUN_PROJECTORS"), default=True),
            jwt_secret=jwt_secret,
            access_minutes=int(env.get("JWT_ACCESS_TOKEN_LIFETIME", "15")),
            refresh_minutes=int(env.get("JWT_REFRESH_TOKEN_LIFETIME", "10080")),
            credentials_key=credentials_key,
            cors_origins=_list(env.get("CORS_ALLOWED_ORIGINS"))
            or ("http://localhost:5173", "http://localhost:3000"),
            mailer=env.get("MAILER", "console"),
            mail_dir=Path(env["MAIL_DIR"]) if env.get("MAIL_DIR") else None,
            smtp_url=env.get("SMTP_URL") or None,
            mail_from=env.get("MAIL_FROM", "WibeStore <no-reply@wibestore.uz>"),
            frontend_url=env.get("FRONTEND_URL", "https://wibestore.uz"),
            google_client_ids=_list(env.get("GOOGLE_CLIENT_IDS") or env.get("GOOGLE_CLIENT_ID")),
            google_certs_url=env.get(
                "GOOGLE_CERTS_URL", "https://www.googleapis.com/oauth2/v1/certs"
            ),
            google_userinfo_url=env.get(
                "GOOGLE_USERINFO_URL", "https://www.googleapis.com/oauth2/v3/userinfo"
            ),
            login_max_failures=int(env.get("LOGIN_MAX_FAILURES", "5")),
            login_lock_seconds=int(env.get("LOGIN_LOCK_SECONDS", "900")),
            login_account_max_failures=int(env.get("LOGIN_ACCOUNT_MAX_FAILURES", "20")),
            trusted_proxies=_list(env.get("TRUSTED_PROXIES")),
            read_your_writes_timeout=float(env.get("READ_YOUR_WRITES_TIMEOUT", "2.0")),
            projection_batch_size=int(env.get("PROJECTION_BATCH_SIZE", "1000")),
            media_root=Path(env["MEDIA_ROOT"]) if env.get("MEDIA_ROOT") else None,
            rate_limits=env.get("RATE_LIMITS", ""),
            postgres_pool_size=int(env.get("POSTGRES_POOL_SIZE", "10")),
            postgres_max_overflow=int(env.get("POSTGRES_MAX_OVERFLOW", "10")),
            postgres_pool_timeout=int(env.get("POSTGRES_POOL_TIMEOUT", "5")),
            read_pool_size=int(env.get("READ_POOL_SIZE", "10")),
            read_max_overflow=int(env.get("READ_MAX_OVERFLOW", "20")),
            database_retry_after=int(env.get("DATABASE_RETRY_AFTER", "5")),
            escrow_delivery_hours=float(env.get("ESCROW_DELIVERY_HOURS", "24")),
            escrow_auto_release_hours=float(env.get("ESCROW_AUTO_RELEASE_HOURS", "24")),
            payment_webhook_secret=webhook_secret,
            payment_provider=provider,
            allow_sandbox_payments_in_production=allow_sandbox,
            production_ledger=_flag(
                env.get("PRODUCTION_LEDGER"),
                default=environment == "production" and provider != "sandbox",
            ),
            health_token=env.get("HEALTH_TOKEN", ""),
        )

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


def _flag(value: str | None, *, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "y", "on"}


def _list(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


def _local_secret(data_dir: Path, name: str) -> str:
    """A development secret kept under the data dir, so tokens survive a restart."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()
