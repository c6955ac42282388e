"""The `dealbook` command against a throwaway SQLite file."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.settings import get_settings


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_migrate_then_seed_once(database: str) -> None:
    runner = CliRunner()
    migrated = runner.invoke(cli, ["migrate"])
    assert migrated.exit_code == 0, migrated.output
    assert "is at revision head" in migrated.output
    first = runner.invoke(cli, ["seed"])
    assert first.exit_code == 0, first.output
    assert "seeded: coreweave-core-scientific" in first.output
    second = runner.invoke(cli, ["seed"])
    assert "nothing seeded" in second.output


def test_value_prints_headline_results() -> None:
    result = CliRunner().invoke(
        cli, ["value", "app/seed/coreweave-core-scientific.assumptions.json"]
    )
    assert result.exit_code == 0, result.output
    assert "Implied price per target share" in result.output and "$20.40" in result.output
    assert "0.1235x" in result.output


def test_value_json_and_bad_file(tmp_path: Path) -> None:
    import json

    result = CliRunner().invoke(
        cli, ["value", "app/seed/coreweave-core-scientific.assumptions.json", "--json"]
    )
    assert json.loads(result.output)["exchange"]["effective_ratio"] == 0.1235
    bad = tmp_path / "bad.json"
    bad.write_text('{"projection_years": 5, "deal_terms": {"tax_rate": 25}}')
    result = CliRunner().invoke(cli, ["value", str(bad)])
    assert result.exit_code == 2
    assert "acquirer: Field required" in result.output
