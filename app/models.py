"""Every table, imported in one place for Alembic's autogenerate and the tests."""

from app.assumptions.models import AssumptionHead, AssumptionSet
from app.audit.models import AuditEvent
from app.auth.models import ApiToken, DealMember, LoginAttempt, LoginSession, User
from app.db import Base
from app.deals.models import Company, Deal, DealFact, DealSource
from app.valuation.models import ValuationRun

__all__ = [
    "ApiToken",
    "AssumptionHead",
    "AssumptionSet",
    "AuditEvent",
    "Base",
    "Company",
    "Deal",
    "DealFact",
    "DealMember",
    "DealSource",
    "LoginAttempt",
    "LoginSession",
    "User",
    "ValuationRun",
]
