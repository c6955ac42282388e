"""Every text an assumption set holds is refused with a NUL in it: PostgreSQL cannot store one.

The check sits on the text fields themselves (`app.types.Text`), not on every field, so the
guard below makes sure no text field of any model goes without it.
"""

import copy
import inspect
import json
from typing import Annotated, Any, get_args, get_origin

import pytest
from pydantic import AfterValidator, ValidationError

from app.assumptions import schemas
from app.assumptions.schemas import AssumptionPayload
from app.seed import SEED_DIR
from app.types import refuse_nul

MODELS = [
    model
    for _, model in inspect.getmembers(schemas, inspect.isclass)
    if issubclass(model, schemas.Model) and model is not schemas.Model
]
PAYLOAD = json.loads((SEED_DIR / "coreweave-core-scientific.assumptions.json").read_text())


def _unchecked_text(annotation: Any, metadata: tuple[Any, ...] | list[Any] = ()) -> bool:
    """Whether `str` appears somewhere in the annotation without the NUL check on it."""
    if annotation is str:
        return not any(isinstance(m, AfterValidator) and m.func is refuse_nul for m in metadata)
    if get_origin(annotation) is Annotated:
        base, *more = get_args(annotation)
        return _unchecked_text(base, more)
    return any(_unchecked_text(arg) for arg in get_args(annotation))


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_text_field_refuses_nul(model: type[schemas.Model]) -> None:
    for name, field in model.model_fields.items():
        assert not _unchecked_text(field.annotation, field.metadata), f"{model.__name__}.{name}"


def test_the_guard_sees_bare_text() -> None:
    assert _unchecked_text(str) and _unchecked_text(list[str]) and _unchecked_text(str | None)
    assert _unchecked_text(dict[str, float])
    assert not _unchecked_text(schemas.Text) and not _unchecked_text(dict[schemas.Text, float])
    assert not _unchecked_text(float) and not _unchecked_text(list[float])


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
