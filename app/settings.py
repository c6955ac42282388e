"""Runtime configuration, read once from the environment (12-factor)."""

import os
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///var/dealbook.db"


class Settings(BaseSettings):
    """Settings from environment variables; defaults run with no server at all."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8000
    sql_echo: bool = False
    secret_key: str = ""
    """Signs session cookies, CSRF tokens and upload previews. Empty: the key in
    `secret_key_file`, created on first use; set SECRET_KEY (the same everywhere) when several
    machines serve the app."""
    secret_key_file: str = "var/secret-key"
    session_idle_minutes: int = 120
    """A login ends after this long without a request..."""
    session_max_hours: int = 12
    """...and this long after it began, whatever happens."""
    fast_password_hashing: bool = False
    """Cheap argon2 parameters, for the test suite only (thousands of logins a run)."""
    max_upload_bytes: int = 10 * 1024 * 1024
    log_requests: bool = True
    """One JSON line per request on stdout (the test suite turns it off)."""
    log_level: str = "INFO"
    db_pool_size: int = 5
    """PostgreSQL connections each worker keeps open..."""
    db_max_overflow: int = 10
    """...and may open beyond that under a burst."""
    db_pool_timeout: float = 5.0
    """Seconds a request waits for a connection before it is answered 503."""
    db_pool_recycle: int = 1800
    keepalive_requests: int = 50
    """About how many requests a keep-alive connection serves before the client is asked to
    reconnect, so connections spread over the workers (app/web/connections.py); 0: never."""


def secret_key(settings: Settings) -> str:
    """The configured key, or the local one (made once, readable by this user only)."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.secret_key_file)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
                f.write(secrets.token_urlsafe(48))
        except FileExistsError:
            pass  # another worker made it first
    return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()
