"""Configuration as the specification describes it: APP_CONFIG, EnvConfig, files, PORT."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from entrypoints.config import ConfigError, Settings, load_settings, s3_location


def env(tmp_path: Path, **values: str) -> dict[str, str]:
    base = {
        "APP_CONFIG": "entrypoints.config.EnvConfig",
        "APP_ENV_VARS": "DATABASE_PATH",
        "DATABASE_PATH": repr(str(tmp_path / "db" / "m.sqlite3")),
    }
    return base | values


def test_env_config_parses_python_literals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    values = env(
        tmp_path,
        APP_ENV_VARS="DATABASE_PATH, SECRET_KEY, DEBUG, JWT_ACCESS_TOKEN_EXPIRES",
        SECRET_KEY="'SUPER_SECRET_KEY_SUPER_SECRET_KEY'",
        DEBUG="False",
        JWT_ACCESS_TOKEN_EXPIRES="600",
    )
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.SECRET_KEY == "SUPER_SECRET_KEY_SUPER_SECRET_KEY"
    assert settings.DEBUG is False and settings.JWT_ACCESS_TOKEN_EXPIRES == 600
    assert settings.DEMO_DATA is True  # EnvConfig keeps the development defaults


@pytest.mark.parametrize(
    ("name", "value", "why"),
    [
        ("DEBUG", "__import__('os').system('echo pwned')", "literal"),  # never eval'd
        ("DEBUG", "'yes'", "type"),
        ("JWT_ACCESS_TOKEN_EXPIRES", "True", "type"),
        ("SQLITE_SYNCHRONOUS", "'OFF'", "FULL"),
        ("UNSENT_UPLOAD_BYTES", "-1", "negative"),
        ("UPLOAD_MIN_FREE_BYTES", "-1", "negative"),
        ("WORKERS", "0", "WORKERS"),
        ("HASHING_THREADS", "0", "HASHING_THREADS"),
        ("SMTP_HOST", "'mail.example.org'", "PUBLIC_URL must be set"),  # links would be relative
        ("PUBLIC_URL", "'chat.example.org'", "site's address"),
    ],
)
def test_env_config_refuses_bad_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, why: str
) -> None:
    for key, item in env(tmp_path, APP_ENV_VARS=f"DATABASE_PATH,{name}", **{name: value}).items():
        monkeypatch.setenv(key, item)
    with pytest.raises(ConfigError, match=why):
        load_settings()


def test_listed_but_unset_variable_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, item in env(tmp_path, APP_ENV_VARS="DATABASE_PATH,DEBUG").items():
        monkeypatch.setenv(key, item)
    monkeypatch.delenv("DEBUG", raising=False)
    with pytest.raises(ConfigError, match="DEBUG"):
        load_settings()


def test_development_secret_is_generated_once_beside_the_data(tmp_path: Path) -> None:
    first = load_settings(env(tmp_path))
    second = load_settings(env(tmp_path))
    assert first.SECRET_KEY and len(first.SECRET_KEY) >= 32
    assert first.SECRET_KEY == second.SECRET_KEY
    assert (tmp_path / "secret_key").read_text() == first.SECRET_KEY


def test_port_comes_from_the_environment(tmp_path: Path) -> None:
    assert load_settings(env(tmp_path, PORT="6123")).PORT == 6123
    assert load_settings(env(tmp_path)).PORT == 5000
    with pytest.raises(ConfigError):
        load_settings(env(tmp_path, PORT="http"))


def test_config_files(tmp_path: Path) -> None:
    py = tmp_path / "conf.py"
    py.write_text(f"SECRET_KEY = 'k' * 40\nDATABASE_PATH = {str(tmp_path / 'a.sqlite3')!r}\nlower = 1\n")
    assert load_settings({"APP_CONFIG": str(py)}).SECRET_KEY == "k" * 40
    js = tmp_path / "conf.json"
    js.write_text(json.dumps({"SECRET_KEY": "j" * 40, "THREADS": 12, "RESERVED_THREADS": 2}))
    assert load_settings({"APP_CONFIG": str(js)}).THREADS == 12
    toml = tmp_path / "conf.toml"
    toml.write_text(f"SECRET_KEY = '{'t' * 40}'\nUNKNOWN_SETTING = 1\n")
    with pytest.raises(ConfigError, match="UNKNOWN_SETTING"):
        load_settings({"APP_CONFIG": str(toml)})


def test_unknown_class_and_production_without_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError):
        load_settings({"APP_CONFIG": "entrypoints.config.NoSuchConfig"})
    monkeypatch.delenv("APP_ENV_VARS", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings({"APP_CONFIG": "entrypoints.config.ProductionConfig"})


def test_default_is_development_with_the_spec_paths() -> None:
    defaults = Settings()
    assert defaults.DATABASE_PATH == "user_data/db/messenger.sqlite3"
    assert defaults.UPLOAD_FOLDER == "user_data/upload"
    assert defaults.MAX_CONTENT_LENGTH == 16 * 1024 * 1024
    assert defaults.JWT_ACCESS_TOKEN_EXPIRES == 3600
    assert defaults.RATE_LIMITS_ENABLED is True


# --- where the data lives ------------------------------------------------------------------


def test_database_url_defaults_to_the_sqlite_file_and_may_name_one(tmp_path: Path) -> None:
    assert Settings().DATABASE_URL is None and not Settings().uses_postgres
    settings = load_settings(
        env(tmp_path, APP_ENV_VARS="DATABASE_PATH,DATABASE_URL", DATABASE_URL=f"sqlite:///{tmp_path}/x.db")
    )
    assert str(tmp_path / "x.db") == settings.DATABASE_PATH  # sqlite:/// + an absolute path
    relative = load_settings(
        env(tmp_path, APP_ENV_VARS="DATABASE_PATH,DATABASE_URL", DATABASE_URL="sqlite:///a/b.db")
    )
    assert relative.DATABASE_PATH == "a/b.db" and not relative.uses_postgres
    absolute = load_settings(
        env(tmp_path, APP_ENV_VARS="DATABASE_PATH,DATABASE_URL", DATABASE_URL="sqlite:////a/b.db")
    )
    assert absolute.DATABASE_PATH == "/a/b.db"


def test_a_postgres_url_may_be_given_bare_and_is_shown_without_its_password(tmp_path: Path) -> None:
    settings = load_settings(
        env(
            tmp_path,
            APP_ENV_VARS="DATABASE_PATH,DATABASE_URL,NOTIFIER",
            DATABASE_URL="postgresql://messenger:s3cret@db.internal:5432/messenger",
            NOTIFIER="postgres",
        )
    )
    assert settings.uses_postgres and settings.NOTIFIER == "postgres"
    assert settings.database_label == "postgresql://messenger:***@db.internal:5432/messenger"


@pytest.mark.parametrize(
    ("name", "value", "why"),
    [
        ("DATABASE_URL", "mysql://db/messenger", "sqlite:///<path> or postgresql://"),
        ("DATABASE_URL", "sqlite://", "names no file"),
        ("DATABASE_URL", "postgresql://", "names no server"),
        ("BLOB_STORE", "ftp://files", "'filesystem' or s3://"),
        ("BLOB_STORE", "s3://", "'filesystem' or s3://"),
        ("BLOB_STORE", "s3://bucket?endpoint=http://x", "not endpoint"),
        ("BLOB_STORE", "s3://bucket?endpoint_url=localhost:9000", "http"),
        ("NOTIFIER", "redis", "'threading', 'polling' or 'postgres'"),
        ("NOTIFIER", "postgres", "needs a postgresql:// DATABASE_URL"),
    ],
)
def test_a_wrong_storage_setting_is_one_clear_error(tmp_path: Path, name: str, value: str, why: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(why)):
        load_settings(env(tmp_path, APP_ENV_VARS=f"DATABASE_PATH,{name}", **{name: value}))


def test_an_s3_blob_store_names_bucket_prefix_and_endpoint(tmp_path: Path) -> None:
    value = "s3://uploads/messenger/files?endpoint_url=http://127.0.0.1:9000&region=eu-west-1"
    settings = load_settings(env(tmp_path, APP_ENV_VARS="DATABASE_PATH,BLOB_STORE", BLOB_STORE=value))
    assert s3_location(settings.BLOB_STORE) == (
        "uploads",
        "messenger/files",
        {"endpoint_url": "http://127.0.0.1:9000", "region": "eu-west-1"},
    )


def test_workers_default_to_the_cpus_and_share_out_the_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("entrypoints.config.available_cpus", lambda: 4)
    assert (Settings().workers, Settings().hashing_threads) == (4, 1)
    assert (Settings(WORKERS=1).workers, Settings(WORKERS=1).hashing_threads) == (1, 4)
    assert Settings(WORKERS=3).hashing_threads == 1
    assert Settings(WORKERS=8).hashing_threads == 1  # never none
    assert Settings(HASHING_THREADS=3).hashing_threads == 3
