"""The `dealbook` command: serve, migrate, seed."""

from pathlib import Path
from typing import Annotated

import typer

from app.settings import get_settings

cli = typer.Typer(help="Dealbook: acquisition valuation.", no_args_is_help=True)


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

    settings = get_settings()
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        reload=reload,
    )


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main() -> None:
    cli()
