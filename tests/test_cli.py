"""The `dealbook` command against a throwaway SQLite file."""

import os
import subprocess
import sys
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


def test_initial_admin_users_and_tokens(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.auth import service as accounts
    from app.db import make_engine, make_session_factory

    monkeypatch.chdir(tmp_path)  # var/initial-credentials is written under the working folder
    runner = CliRunner()
    assert runner.invoke(cli, ["migrate"]).exit_code == 0
    first = runner.invoke(cli, ["init-admin"])
    assert first.exit_code == 0, first.output
    password = first.output.split("password:\n\n    ")[1].split()[0]
    credentials = tmp_path / "var" / "initial-credentials"
    assert credentials.stat().st_mode & 0o777 == 0o600
    assert f"password: {password}" in credentials.read_text()
    assert "users exist" in runner.invoke(cli, ["init-admin"]).output  # never twice

    created = runner.invoke(cli, ["user", "create", "ana", "--role", "analyst", "--name", "Ana"])
    assert created.exit_code == 0 and "one-time password:" in created.output
    assert runner.invoke(cli, ["user", "role", "ana", "viewer"]).exit_code == 0
    bad = runner.invoke(cli, ["user", "role", "ana", "emperor"])
    assert bad.exit_code == 1 and "Not changed" in bad.output
    assert runner.invoke(cli, ["user", "passwd", "ana"]).exit_code == 0
    token = runner.invoke(cli, ["token", "create", "--user", "ana"]).output.strip()
    assert token.startswith("dbk_")
    assert runner.invoke(cli, ["token", "create", "--user", "nobody"]).exit_code == 1

    engine = make_engine(database)
    with make_session_factory(engine)() as session:
        admin = accounts.get_user(session, "admin")
        assert admin.role == "admin" and admin.must_change_password
        assert accounts.hasher().verify(password, admin.password_hash)
        ana = accounts.get_user(session, "ana")
        assert ana.role == "viewer" and ana.display_name == "Ana" and ana.must_change_password
        assert accounts.token_user(session, token)[1].username == "ana"  # stored as a digest
    engine.dispose()


def test_make_runs_commands_each_in_a_fresh_process(tmp_path: Path) -> None:
    """`make run`'s steps as separate processes, as a newcomer's first run makes them: a
    command must not rely on models that another import happened to load in the same process
    (in-process CliRunner tests cannot see that)."""
    env = os.environ | {"DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}"}
    dealbook = Path(sys.executable).parent / "dealbook"
    for command in (["migrate"], ["seed"], ["init-admin"]):
        done = subprocess.run(
            [str(dealbook), *command], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr[-2000:]
    assert "Initial admin created" in done.stdout
    credentials = tmp_path / "var" / "initial-credentials"
    assert credentials.stat().st_mode & 0o777 == 0o600
    assert "user: admin" in credentials.read_text()
