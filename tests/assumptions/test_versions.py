"""Assumption versions are immutable, hashed, and never silently overwritten."""

import pytest
from sqlalchemy.orm import Session

from app.assumptions.schemas import AssumptionPayload
from app.assumptions.service import content_hash, current_version, list_versions, save_version
from app.deals.service import get_deal
from app.errors import ConflictError
from app.seed import load_assumptions


def _edited(payload: AssumptionPayload, growth: float) -> AssumptionPayload:
    target = payload.target
    operating = target.operating.model_copy(update={"nwc_pct_revenue": growth})
    return payload.model_copy(update={"target": target.model_copy(update={"operating": operating})})


def test_saving_makes_a_new_version(seeded: Session) -> None:
    deal = get_deal(seeded, "coreweave-core-scientific", viewer=None)
    v1 = current_version(seeded, deal.id)
    assert v1 is not None
    payload = load_assumptions("coreweave-core-scientific")
    assert v1.content_hash == content_hash(payload.model_dump(mode="json"))
    v2 = save_version(
        seeded, deal.id, _edited(payload, 0.04), author="ana", expected_parent_id=v1.id
    )
    assert (v2.version, v2.parent_id) == (2, v1.id)
    assert v2.content_hash != v1.content_hash
    assert current_version(seeded, deal.id).id == v2.id
    assert [v.version for v in list_versions(seeded, deal.id)] == [2, 1]
    assert v1.payload["target"]["operating"]["nwc_pct_revenue"] == 0.03  # untouched


def test_stale_save_is_a_conflict_not_a_lost_update(seeded: Session) -> None:
    deal = get_deal(seeded, "coreweave-core-scientific", viewer=None)
    v1 = current_version(seeded, deal.id)
    payload = load_assumptions("coreweave-core-scientific")
    save_version(seeded, deal.id, _edited(payload, 0.04), author="ana", expected_parent_id=v1.id)
    with pytest.raises(ConflictError) as excinfo:
        save_version(
            seeded, deal.id, _edited(payload, 0.05), author="bob", expected_parent_id=v1.id
        )
    assert excinfo.value.field == "parent"
    assert [v.version for v in list_versions(seeded, deal.id)] == [2, 1]
