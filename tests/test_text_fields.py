"""Every text field a stored model has refuses NUL, which PostgreSQL cannot store.

The check sits on the text fields themselves (`app.types.NO_NUL`, `Text`), not on every
field, so this walks every model that takes input to be stored and fails on a `str` without it.
"""

import inspect
from typing import Annotated, Any, get_args, get_origin

import pytest
from pydantic import AfterValidator, BaseModel

from app.assumptions import schemas as assumptions
from app.deals import schemas as deals
from app.types import Text, refuse_nul
from app.workspace.api import ConfirmIn


def _models(module: Any, base: type[BaseModel]) -> list[type[BaseModel]]:
    return [
        model
        for _, model in inspect.getmembers(module, inspect.isclass)
        if issubclass(model, base) and model is not base
    ]


MODELS = [
    *_models(assumptions, assumptions.Model),
    *_models(deals, deals.StrictModel),
    ConfirmIn,
]


def _unchecked_text(annotation: Any, metadata: tuple[Any, ...] | list[Any] = ()) -> bool:
    """Whether `str` appears somewhere in the annotation without the NUL check on it."""
    if annotation is str:
        return not any(isinstance(m, AfterValidator) and m.func is refuse_nul for m in metadata)
    if get_origin(annotation) is Annotated:
        base, *more = get_args(annotation)
        return _unchecked_text(base, more)
    return any(_unchecked_text(arg) for arg in get_args(annotation))


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_text_field_refuses_nul(model: type[BaseModel]) -> None:
    for name, field in model.model_fields.items():
        assert not _unchecked_text(field.annotation, field.metadata), f"{model.__name__}.{name}"


def test_the_guard_sees_bare_text() -> None:
    assert _unchecked_text(str) and _unchecked_text(list[str]) and _unchecked_text(str | None)
    assert _unchecked_text(dict[str, float])
    assert not _unchecked_text(Text) and not _unchecked_text(dict[Text, float])
    assert not _unchecked_text(float) and not _unchecked_text(list[float])
    assert len(MODELS) > 20  # the walk found the models
