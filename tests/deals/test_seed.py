"""The reference seed: idempotent, and every assumption labelled."""

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.assumptions.models import AssumptionSet
from app.assumptions.schemas import Basis, leaf_paths
from app.assumptions.service import current_version
from app.deals.models import Deal, FactBasis
from app.deals.service import get_deal
from app.seed import load_assumptions, load_deal, seed


def test_seed_runs_once(session: Session) -> None:
    assert [d.slug for d in seed(session)] == ["coreweave-core-scientific"]
    assert seed(session) == []
    assert session.scalar(select(func.count()).select_from(Deal)) == 1
    assert session.scalar(select(func.count()).select_from(AssumptionSet)) == 1


def test_seeded_deal_matches_the_reference(seeded: Session) -> None:
    deal = get_deal(seeded, "coreweave-core-scientific", viewer=None)
    assert deal.announced.isoformat() == "2025-07-07"
    assert deal.status == "terminated"
    facts = {f.key: f for f in deal.facts}
    assert facts["exchange_ratio"].value == 0.1235
    assert facts["acquirer_reference_price"].value == 165.20
    implied = 0.1235 * facts["acquirer_reference_price"].value
    assert round(implied, 2) == facts["implied_price"].value
    assert facts["unaffected_price"].value == 12.30
    assert facts["target_ownership"].value + facts["acquirer_ownership"].value == 1.0
    assert facts["power_capacity_mw"].value == 1300
    assert facts["run_rate_synergies"].value == 5.0e8
    derived = {k for k, f in facts.items() if f.basis == FactBasis.DERIVED}
    assert derived == {"premium_check", "target_diluted_shares", "issued_shares_value"}
    assert all(f.source_keys for f in deal.facts), "every fact cites a source"
    version = current_version(seeded, deal.id)
    assert version is not None and version.version == 1


def test_every_seeded_assumption_is_labelled() -> None:
    payload = load_assumptions("coreweave-core-scientific")
    assert sorted(payload.provenance) == sorted(leaf_paths(payload))
    known_sources = {s.key for s in load_deal("coreweave-core-scientific").sources}
    for path, label in payload.provenance.items():
        assert set(label.sources) <= known_sources, path
        if label.basis is Basis.PUBLISHED:
            assert label.sources, f"{path} is published but cites nothing"
    assert payload.provenance["deal_terms.exchange_ratio"].basis is Basis.PUBLISHED
    assert payload.provenance["acquirer.operating.revenue_growth"].basis is Basis.ASSUMPTION
