"""Runtime configuration, read once from the environment (12-factor)."""

from functools import lru_cache

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
    """Signs upload previews. Empty: a random key per process (fine for one process; set it
    when several workers or machines serve the app)."""
    max_upload_bytes: int = 10 * 1024 * 1024


@lru_cache
def get_settings() -> Settings:
    return Settings()
