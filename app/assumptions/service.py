"""Saving and reading assumption versions. Nothing is overwritten: a save is a new version."""

import hashlib
import json
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.assumptions.models import AssumptionHead, AssumptionSet
from app.assumptions.schemas import AssumptionPayload
from app.errors import ConflictError, VersionConflict


def content_hash(payload: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON, so identical assumptions hash identically anywhere."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


_IS_HEAD = AssumptionHead.assumption_set_id == AssumptionSet.id
"""A version is current when its deal's head points at it."""

_CURRENT = (
    select(AssumptionSet)
    .join(AssumptionHead, _IS_HEAD)
    .where(AssumptionHead.deal_id == bindparam("deal"))
)


def outerjoin_current_version(stmt: Select[Any], deal_id: ColumnElement[int]) -> Select[Any]:
    """`stmt` joined to the deal's current version (NULLs when it has none), for a use case
    that reads the version beside other rows in one statement; add `AssumptionSet` to read it."""
    return stmt.outerjoin(AssumptionHead, AssumptionHead.deal_id == deal_id).outerjoin(
        AssumptionSet, _IS_HEAD
    )


def current_version(session: Session, deal_id: int) -> AssumptionSet | None:
    """The deal's current version (one query: the head's version by a join, built once)."""
    return session.scalars(_CURRENT, {"deal": deal_id}).one_or_none()


def list_versions(session: Session, deal_id: int) -> list[AssumptionSet]:
    stmt = (
        select(AssumptionSet)
        .where(AssumptionSet.deal_id == deal_id)
        .order_by(AssumptionSet.version.desc())
    )
    return list(session.scalars(stmt))


def save_version(
    session: Session,
    deal_id: int,
    payload: AssumptionPayload,
    *,
    author: str,
    note: str = "",
    expected_parent_id: int | None = None,
) -> AssumptionSet:
    """Insert a new version and make it current.

    `expected_parent_id` is the version the editor started from; if someone saved in between,
    the save is refused with a conflict instead of silently replacing their work.
    """
    head = session.get(AssumptionHead, deal_id)
    current_id = head.assumption_set_id if head else None
    if current_id != expected_parent_id:
        rows = session.execute(
            select(AssumptionSet.id, AssumptionSet.version).where(
                AssumptionSet.id.in_([i for i in (current_id, expected_parent_id) if i])
            )
        )
        numbers = {row_id: number for row_id, number in rows}
        based_on, now = numbers.get(expected_parent_id), numbers.get(current_id)
        raise VersionConflict(
            f"Not saved: these assumptions changed since you opened them. You started from "
            f"v{based_on}, and v{now} has been saved since. Nothing of yours or theirs was "
            "overwritten: compare the two, then re-apply your edits on the current version.",
            based_on=based_on,
            current=now,
        )
    data = payload.model_dump(mode="json")
    last = session.scalar(
        select(func.max(AssumptionSet.version)).where(AssumptionSet.deal_id == deal_id)
    )
    version = AssumptionSet(
        deal_id=deal_id,
        version=(last or 0) + 1,
        parent_id=current_id,
        author=author,
        note=note,
        payload=data,
        content_hash=content_hash(data),
    )
    try:
        # A savepoint: if a concurrent save wins, only this attempt is undone and the
        # session stays usable to answer with a clear conflict.
        with session.begin_nested():
            session.add(version)
            session.flush()
            if head is None:
                session.add(AssumptionHead(deal_id=deal_id, assumption_set_id=version.id))
            else:
                head.assumption_set_id = version.id
            session.flush()
    except (IntegrityError, StaleDataError) as exc:
        raise ConflictError(
            "Another save of these assumptions landed at the same moment. Reload, then "
            "re-apply your edits.",
            field="parent",
        ) from exc
    return version
