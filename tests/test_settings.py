"""Settings come from the environment once, each default written once (wibestore/settings.py)."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from wibestore.settings import LOCAL_SECRETS, Settings


def env(tmp_path: Path, **values: str) -> dict[str, str]:
    return {"WIBESTORE_DATA_DIR": str(tmp_path / "var"), **values}


def test_an_empty_environment_gives_the_defaults_of_the_struct(tmp_path: Path) -> None:
    settings = Settings.from_env(env(tmp_path))
    defaults = Settings()
    secrets = {*LOCAL_SECRETS, "data_dir"}  # made for development; the data dir is env's
    for field in msgspec.structs.fields(Settings):
        if field.name not in secrets:
            assert getattr(settings, field.name) == getattr(defaults, field.name), field.name


def test_each_variable_is_read_as_its_fields_type(tmp_path: Path) -> None:
    settings = Settings.from_env(
        env(
            tmp_path,
            REDIS_URL="redis://127.0.0.1:6379/3",
            REDIS_TIMEOUT="0.5",
            RUN_PROJECTORS="no",
            JWT_ACCESS_TOKEN_LIFETIME="30",
            CORS_ALLOWED_ORIGINS="https://a.uz, https://b.uz",
            MEDIA_ROOT="/srv/media",
            PORT="9000",
            WEB_CONCURRENCY="4",
        )
    )
    assert settings.redis_url == "redis://127.0.0.1:6379/3"
    assert settings.redis_timeout == 0.5
    assert settings.run_projectors is False
    assert settings.access_minutes == 30
    assert settings.cors_origins == ("https://a.uz", "https://b.uz")
    assert settings.media_root == Path("/srv/media")
    assert (settings.port, settings.web_concurrency) == (9000, 4)
    assert settings.celery_eager is False  # derived: a broker is configured


def test_old_names_are_still_read(tmp_path: Path) -> None:
    settings = Settings.from_env(
        env(tmp_path, SECRET_KEY="k" * 40, GOOGLE_CLIENT_ID="one.apps.googleusercontent.com")
    )
    assert settings.jwt_secret == "k" * 40
    assert settings.google_client_ids == ("one.apps.googleusercontent.com",)


def test_development_secrets_are_made_once_and_kept(tmp_path: Path) -> None:
    first = Settings.from_env(env(tmp_path))
    again = Settings.from_env(env(tmp_path))
    assert len(first.jwt_secret) >= 32
    assert (first.jwt_secret, first.credentials_key) == (again.jwt_secret, again.credentials_key)
    assert (tmp_path / "var" / "jwt_secret").stat().st_mode & 0o777 == 0o600


def test_production_names_every_missing_secret(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="JWT_SECRET, DATABASE_URL, CREDENTIALS_KEY"):
        Settings.from_env(env(tmp_path, WIBESTORE_ENV="production"))
    assert not (tmp_path / "var").exists()
