"""Every text an assumption set holds is refused with a NUL in it, where it is: PostgreSQL
cannot store one (tests/test_text_fields.py checks every model's text fields carry the check).
"""

import copy
import json

import pytest
from pydantic import ValidationError

from app.assumptions.schemas import AssumptionPayload
from app.seed import SEED_DIR

PAYLOAD = json.loads((SEED_DIR / "coreweave-core-scientific.assumptions.json").read_text())


@pytest.mark.parametrize(
    ("path", "loc"),
    [
        (("acquirer", "name"), ("acquirer", "name")),
        (("target", "ticker"), ("target", "ticker")),
        (("currency",), ("currency",)),
        (("provenance", "projection_years", "note"), ("provenance", "projection_years", "note")),
    ],
)
def test_nul_in_text_is_refused_where_it_is(path: tuple[str, ...], loc: tuple[str, ...]) -> None:
    payload = copy.deepcopy(PAYLOAD)
    node = payload
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = "a\x00b"
    with pytest.raises(ValidationError) as raised:
        AssumptionPayload.model_validate(payload)
    errors = raised.value.errors()
    assert [e["loc"] for e in errors] == [loc]
    assert "NUL" in errors[0]["msg"]


def test_nul_in_a_provenance_key_or_source_is_refused() -> None:
    payload = copy.deepcopy(PAYLOAD)
    payload["provenance"]["bad\x00key"] = {"basis": "assumption"}
    payload["provenance"]["projection_years"]["sources"] = ["fine", "x\x00"]
    with pytest.raises(ValidationError) as raised:
        AssumptionPayload.model_validate(payload)
    places = {e["loc"] for e in raised.value.errors()}
    assert ("provenance", "projection_years", "sources", 1) in places
    assert any(loc[:2] == ("provenance", "bad\x00key") for loc in places)
