"""Upload an assumption file: preview what it would change, then confirm it as a version.

The preview is stateless: its token is the validated payload, the version it was compared with
and the deal, signed with the app's secret. Confirming re-checks all of it, so cancelling (or
never confirming) leaves nothing stored, and a token cannot be forged or replayed onto
another deal or over a newer version (that is a 409, like any stale save).
"""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from app.assumptions import diff, formats
from app.assumptions import service as assumptions
from app.assumptions.models import AssumptionSet
from app.assumptions.schemas import AssumptionPayload, canonical
from app.assumptions.upload import Problem, UploadError
from app.audit.service import Actor, record
from app.deals.models import Deal
from app.valuation import service as valuation

SALT = "dealbook.assumption-upload"


def _signer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=SALT)


def preview(
    session: Session, deal: Deal, data: bytes, filename: str, secret: str
) -> dict[str, Any]:
    """Parse and validate the file (JSON, CSV or XLSX, by its name), and say exactly what it
    would change."""
    payload = formats.load(data, filename)
    new = canonical(payload.model_dump(mode="json"))
    current = assumptions.current_version(session, deal.id)
    old = canonical(current.payload) if current else None
    changes = diff.changes(old, new) if old is not None else []
    token = _signer(secret).dumps(
        {"deal": deal.id, "parent": current.id if current else None, "payload": new}
    )
    return {
        "deal": deal,
        "current": current,
        "changes": changes,
        "no_changes": old is not None and not changes,
        "before": valuation.headline_figures(old) if old is not None else None,
        "after": valuation.headline_figures(new),
        "token": token,
    }


def confirm(
    session: Session, deal: Deal, token: str, secret: str, actor: Actor, note: str
) -> AssumptionSet:
    """Store the previewed file as a new version (and value it), if nothing moved since."""
    try:
        data = _signer(secret).loads(token)
    except BadSignature as exc:
        raise UploadError(
            [Problem("token", "is not one this server issued; preview again")]
        ) from exc
    if data.get("deal") != deal.id:
        raise UploadError([Problem("token", "belongs to another deal")])
    saved = assumptions.save_version(
        session,
        deal.id,
        AssumptionPayload.model_validate(data["payload"]),
        author=actor.name,
        note=note.strip()[:2000] or "Uploaded file",
        expected_parent_id=data.get("parent"),
    )
    valuation.run_valuation(session, saved)
    record(
        session,
        actor,
        "assumptions.upload",
        deal_id=deal.id,
        version=saved.version,
        summary=f"Uploaded v{saved.version}: {saved.note}",
        details={"content_hash": saved.content_hash},
    )
    return saved
