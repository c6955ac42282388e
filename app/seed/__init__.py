"""Reference deals shipped with Dealbook, loaded into an empty database by `dealbook seed`."""

from pathlib import Path

from sqlalchemy.orm import Session

from app.assumptions.schemas import AssumptionPayload
from app.assumptions.service import save_version
from app.audit.service import Actor
from app.deals.models import Deal
from app.deals.schemas import DealCreate
from app.deals.service import count_deals, create_deal
from app.valuation.service import run_valuation

SEED_DIR = Path(__file__).resolve().parent
REFERENCE_DEALS = ("coreweave-core-scientific",)
SEED = Actor("Dealbook seed")


def load_deal(name: str) -> DealCreate:
    return DealCreate.model_validate_json((SEED_DIR / f"{name}.deal.json").read_text())


def load_assumptions(name: str) -> AssumptionPayload:
    text = (SEED_DIR / f"{name}.assumptions.json").read_text()
    return AssumptionPayload.model_validate_json(text)


def seed(session: Session, *, only_if_empty: bool = True) -> list[Deal]:
    """Load the reference deals, their first assumption version and its valuation run."""
    if only_if_empty and count_deals(session):
        return []
    created = []
    for name in REFERENCE_DEALS:
        deal = create_deal(session, load_deal(name), creator=None, actor=SEED)
        version = save_version(
            session,
            deal.id,
            load_assumptions(name),
            author="Dealbook seed",
            note="Reference case: published terms plus labelled illustrative assumptions.",
        )
        run_valuation(session, version)
        created.append(deal)
    return created
