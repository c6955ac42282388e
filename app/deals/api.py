"""JSON routes for deals under /api/v1."""

from fastapi import APIRouter, status

from app.db import SessionDep
from app.deals import service
from app.deals.schemas import DealCreate, DealOut, DealSummary

router = APIRouter(prefix="/api/v1/deals", tags=["deals"])

_ERRORS = {
    404: {"description": "No deal with that slug"},
    409: {"description": "A deal with that slug already exists"},
    422: {"description": "Invalid input; `detail` names each offending field"},
}


@router.get("", response_model=list[DealSummary])
def list_deals(session: SessionDep) -> list[DealSummary]:
    return [DealSummary.model_validate(d) for d in service.list_deals(session).deals]


@router.get("/{slug}", response_model=DealOut, responses={404: _ERRORS[404]})
def get_deal(slug: str, session: SessionDep) -> DealOut:
    return DealOut.model_validate(service.get_deal(session, slug))


@router.post(
    "",
    response_model=DealOut,
    status_code=status.HTTP_201_CREATED,
    responses={409: _ERRORS[409], 422: _ERRORS[422]},
)
def create_deal(data: DealCreate, session: SessionDep) -> DealOut:
    return DealOut.model_validate(service.create_deal(session, data))
