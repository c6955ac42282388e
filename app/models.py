"""Every table, imported in one place for Alembic's autogenerate and the tests."""

from app.assumptions.models import AssumptionHead, AssumptionSet
from app.db import Base
from app.deals.models import Company, Deal, DealFact, DealSource
from app.valuation.models import ValuationRun

__all__ = [
    "AssumptionHead",
    "AssumptionSet",
    "Base",
    "Company",
    "Deal",
    "DealFact",
    "DealSource",
    "ValuationRun",
]
