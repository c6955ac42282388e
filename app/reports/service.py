"""What a report is made from: one saved assumption version and its valuation run.

Every export names its version, content hash, engine version and seed, so any figure in it
can be traced and reproduced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.assumptions import service as assumptions
from app.assumptions.models import AssumptionSet
from app.assumptions.schemas import AssumptionPayload, canonical
from app.auth.principal import Principal
from app.deals import service as deals
from app.deals.models import Deal
from app.errors import NotFoundError
from app.valuation import service as valuation
from app.valuation.models import ValuationRun


@dataclass(frozen=True)
class ReportSource:
    deal: Deal
    version: AssumptionSet
    run: ValuationRun
    payload: dict[str, Any]
    """The version's assumptions in the schema's order (the appendix lists them so)."""

    @property
    def model(self) -> AssumptionPayload:
        return AssumptionPayload.model_validate(self.payload)


def report_source(
    session: Session, slug: str, number: int | None = None, *, viewer: Principal | None
) -> ReportSource:
    """The deal, a version (the current one unless `number`) and its stored run."""
    deal = deals.get_deal(session, slug, viewer=viewer)
    if number is None:
        version = assumptions.current_version(session, deal.id)
        if version is None:
            raise NotFoundError(f"{deal.name} has no saved assumptions to report.", field="slug")
    else:
        version = next(
            (v for v in assumptions.list_versions(session, deal.id) if v.version == number), None
        )
        if version is None:
            raise NotFoundError(f"{deal.name} has no version {number}.", field="version")
    run = valuation.current_run(session, version)
    return ReportSource(deal, version, run, canonical(version.payload))
