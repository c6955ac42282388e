"""JSON routes for deals under /api/v1."""

from fastapi import APIRouter, status

from app.auth.access import Analyst, Viewer
from app.db import SessionDep
from app.deals import service
from app.deals.schemas import DealCreate, DealOut, DealSummary
from app.web.api_errors import INVALID, TOO_LARGE, UNREADABLE, errors

router = APIRouter(prefix="/api/v1/deals", tags=["deals"])

_ERRORS = errors(
    {
        400: UNREADABLE,
        404: "No deal with that slug",
        409: "A deal with that slug already exists",
        413: TOO_LARGE,
        422: INVALID,
    }
)


@router.get("", response_model=list[DealSummary])
def list_deals(session: SessionDep, user: Viewer) -> list[DealSummary]:
    """The deals on your teams (admins: every deal)."""
    deals = service.list_deals(session, viewer=user).deals
    return [DealSummary.model_validate(d) for d in deals]


@router.get("/{slug}", response_model=DealOut, responses={404: _ERRORS[404], 422: _ERRORS[422]})
def get_deal(slug: str, session: SessionDep, user: Viewer) -> DealOut:
    return DealOut.model_validate(service.get_deal(session, slug, viewer=user))


@router.post(
    "",
    response_model=DealOut,
    status_code=status.HTTP_201_CREATED,
    responses={code: _ERRORS[code] for code in (400, 409, 413, 422)},
)
def create_deal(data: DealCreate, session: SessionDep, user: Analyst) -> DealOut:
    """A new deal; you join its team."""
    deal = service.create_deal(session, data, creator=user, actor=user.actor)
    return DealOut.model_validate(deal)
