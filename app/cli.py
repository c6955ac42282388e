"""The `dealbook` command: serve, migrate, seed, value, users and tokens."""

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from sqlalchemy.orm import Session

from app.settings import get_settings

cli = typer.Typer(help="Dealbook: acquisition valuation.", no_args_is_help=True)
users_cli = typer.Typer(help="Manage users (create, passwd, role).", no_args_is_help=True)
tokens_cli = typer.Typer(help="Manage API tokens.", no_args_is_help=True)
cli.add_typer(users_cli, name="user")
cli.add_typer(tokens_cli, name="token")


@contextmanager
def _transaction() -> Iterator[Session]:
    """One database transaction for a command: it commits whole, or not at all.

    Every table is imported first: a command that touches only users still writes rows whose
    foreign keys name other features' tables (an audit row's deal), and SQLAlchemy resolves
    those only among the models it has seen in this process."""
    import app.models  # noqa: F401
    from app.db import make_engine, make_session_factory

    engine = make_engine(get_settings().database_url)
    try:
        with make_session_factory(engine)() as session, session.begin():
            yield session
    finally:
        engine.dispose()


def _fail(message: str) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(1)


def _new_password(prompt: bool) -> str:
    if prompt:
        return typer.prompt(
            "Password (12 characters or more)", hide_input=True, confirmation_prompt=True
        )
    return secrets.token_urlsafe(12)


@users_cli.command("create")
def user_create(
    username: Annotated[str, typer.Argument(help="Login name")],
    role: Annotated[str, typer.Option(help="viewer, analyst or admin")] = "viewer",
    name: Annotated[str, typer.Option(help="Display name")] = "",
    prompt: Annotated[bool, typer.Option(help="Type a password instead of a one-time one")] = False,
) -> None:
    """Create a user; without --prompt they get a one-time password to change at first login."""
    from app.audit.service import CLI, record
    from app.auth.models import Role
    from app.auth.service import create_user
    from app.errors import DomainError

    password = _new_password(prompt)
    try:
        with _transaction() as session:
            user = create_user(
                session,
                username,
                password,
                Role(role),
                display_name=name,
                must_change_password=not prompt,
            )
            record(session, CLI, "user.create", summary=f"Created {user.username} ({role})")
    except (DomainError, ValueError) as exc:
        _fail(f"Not created: {getattr(exc, 'message', exc)}")
    typer.echo(f"created {user.username} ({role})")
    if not prompt:
        typer.echo(f"one-time password: {password}")


@users_cli.command("passwd")
def user_passwd(
    username: Annotated[str, typer.Argument(help="Login name")],
    prompt: Annotated[bool, typer.Option(help="Type the new password")] = False,
) -> None:
    """Reset a password (a one-time one unless --prompt); the user's sessions end."""
    from app.audit.service import CLI, record
    from app.auth.service import get_user, set_password
    from app.errors import DomainError

    password = _new_password(prompt)
    try:
        with _transaction() as session:
            user = get_user(session, username)
            set_password(session, user, password, must_change=not prompt)
            record(session, CLI, "user.password", summary=f"Reset {user.username}'s password")
    except DomainError as exc:
        _fail(f"Not changed: {exc.message}")
    typer.echo(f"password of {username} changed")
    if not prompt:
        typer.echo(f"one-time password: {password}")


@users_cli.command("role")
def user_role(
    username: Annotated[str, typer.Argument(help="Login name")],
    role: Annotated[str, typer.Argument(help="viewer, analyst or admin")],
) -> None:
    """Give a user a role."""
    from app.audit.service import CLI, record
    from app.auth.models import Role
    from app.auth.service import get_user, set_role
    from app.errors import DomainError

    try:
        with _transaction() as session:
            user = get_user(session, username)
            set_role(session, user, Role(role))
            record(session, CLI, "user.role", summary=f"{user.username} is now {role}")
    except (DomainError, ValueError) as exc:
        _fail(f"Not changed: {getattr(exc, 'message', exc)}")
    typer.echo(f"{username} is now {role}")


@tokens_cli.command("create")
def token_create(
    user: Annotated[str, typer.Option("--user", help="Whose token (it acts with their role)")],
    name: Annotated[str, typer.Option(help="What it is for")] = "command line",
) -> None:
    """Create an API token and print it (only its digest is kept)."""
    from app.audit.service import CLI, record
    from app.auth.service import create_token, get_user
    from app.errors import DomainError

    try:
        with _transaction() as session:
            account = get_user(session, user)
            new = create_token(session, account, name)
            record(session, CLI, "token.create", summary=f"Token {new.row.prefix}… for {user}")
    except DomainError as exc:
        _fail(f"Not created: {exc.message}")
    typer.echo(new.token)


@cli.command("init-admin")
def init_admin() -> None:
    """On a database with no users, create `admin` with a random password, printed once and
    written to var/initial-credentials (readable by you only). It must change at first login."""
    from app.audit.service import CLI, record
    from app.auth.models import Role
    from app.auth.service import count_users, create_user

    password = secrets.token_urlsafe(15)
    with _transaction() as session:
        if count_users(session):
            typer.echo("users exist; no initial admin created")
            return
        create_user(session, "admin", password, Role.ADMIN, must_change_password=True)
        record(session, CLI, "user.create", summary="Created the initial admin")
    path = Path("var/initial-credentials")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
        f.write(f"user: admin\npassword: {password}\n(change it at first login)\n")
    bar = "=" * 64
    typer.echo(
        f"{bar}\nInitial admin created. Log in as 'admin' with password:\n\n    {password}\n"
    )
    typer.echo(f"(also in {path}, mode 600; you must choose a new one at first login)\n{bar}")


@cli.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision")] = "head",
) -> None:
    """Apply database migrations (to DATABASE_URL)."""
    from app.migrate import upgrade

    url = get_settings().database_url
    upgrade(url, revision)
    typer.echo(f"database at {_redacted(url)} is at revision {revision}")


@cli.command()
def seed(
    force: Annotated[
        bool, typer.Option(help="Seed even if the database already has deals")
    ] = False,
) -> None:
    """Load the reference deals into an empty database (idempotent)."""
    from app.db import make_engine, make_session_factory
    from app.seed import seed as run_seed

    engine = make_engine(get_settings().database_url)
    try:
        with make_session_factory(engine)() as session, session.begin():
            created = run_seed(session, only_if_empty=not force)
        if created:
            typer.echo("seeded: " + ", ".join(d.slug for d in created))
        else:
            typer.echo("database already has deals; nothing seeded")
    finally:
        engine.dispose()


@cli.command()
def value(
    file: Annotated[Path, typer.Argument(help="Assumption-set JSON file", exists=True)],
    as_json: Annotated[bool, typer.Option("--json", help="Print every result as JSON")] = False,
    seed: Annotated[int | None, typer.Option(help="Monte Carlo seed (default: the file's)")] = None,
) -> None:
    """Value an assumption file and print the headline results (no database needed)."""
    import json

    from pydantic import ValidationError

    from app.assumptions.schemas import AssumptionPayload
    from app.engine import EngineInputError
    from app.valuation.service import value_payload
    from app.web.formatting import money, money_compact, percent, ratio

    try:
        payload = AssumptionPayload.model_validate_json(file.read_bytes())
        results = value_payload(payload, seed=seed)
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"]) or "file"
            typer.echo(f"{file}: {where}: {error['msg']}", err=True)
        raise typer.Exit(2) from exc
    except EngineInputError as exc:
        typer.echo(f"{file}: {exc}", err=True)
        raise typer.Exit(2) from exc
    if as_json:
        typer.echo(json.dumps(results, indent=2))
        return
    x, mc = results["exchange"], results["monte_carlo"]
    rows = [
        ("Exchange ratio", ratio(x["effective_ratio"])),
        ("Implied price per target share", money(x["implied_price"])),
        ("Premium to unaffected", percent(x["premium"])),
        ("Offer equity value (diluted)", money_compact(x["equity_value"])),
        ("Offer enterprise value", money_compact(x["enterprise_value"])),
        ("New acquirer shares", f"{x['new_shares'] / 1e6:,.1f}M"),
        ("Target holders' ownership, fully diluted", percent(x["target_ownership"])),
        ("Target holders' ownership, basic shares", percent(x["basic"]["target_ownership"])),
        ("Acquirer DCF value per share", money(results["acquirer"]["dcf"]["value_per_share"])),
        ("Target DCF value per share", money(results["target"]["dcf"]["value_per_share"])),
        ("Synergy NPV", money_compact(results["synergies"]["npv"])),
        ("EPS accretion, first year", percent(results["accretion"]["accretion"][0], 1, "n.m.")),
        (
            "Target value per share, Monte Carlo P5 / P50 / P95",
            " / ".join(money(mc["percentiles"][p]) for p in ("5", "50", "95")),
        ),
        ("P(target value > offer)", percent(mc["prob_above_offer"])),
    ]
    width = max(len(label) for label, _ in rows)
    for label, text in rows:
        typer.echo(f"{label:<{width}}  {text}")


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface (default HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default PORT)")] = None,
    reload: Annotated[bool, typer.Option(help="Reload on code changes")] = False,
) -> None:
    """Serve the web app with uvicorn."""
    import uvicorn

    from app.paths import ROOT

    settings = get_settings()
    # Templates are compiled once per process, so a template edit reloads like a code edit.
    watch = (
        {
            "reload_dirs": [str(ROOT / d) for d in ("app", "templates", "static")],
            "reload_includes": ["*.html", "*.css"],
        }
        if reload
        else {}
    )
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        reload=reload,
        **watch,
    )


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main() -> None:
    cli()
