"""A heavy version with no stored run: the page answers at once and values it after loading."""

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.assumptions.service import current_version, save_version
from app.deals.service import get_deal
from app.seed import load_assumptions
from app.valuation.models import ValuationRun

URL = "/deals/coreweave-core-scientific"


def _heavy_version(session: Session) -> None:
    deal = get_deal(session, "coreweave-core-scientific", viewer=None)
    payload = load_assumptions("coreweave-core-scientific")
    mc = payload.scenarios.monte_carlo.model_copy(update={"scenarios": 300_000})
    heavy = payload.model_copy(
        update={"scenarios": payload.scenarios.model_copy(update={"monte_carlo": mc})}
    )
    parent = current_version(session, deal.id)
    save_version(session, deal.id, heavy, author="t", note="heavy", expected_parent_id=parent.id)
    session.commit()


def _runs(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ValuationRun))


def test_page_defers_a_heavy_first_valuation(client: TestClient, seeded: Session) -> None:
    _heavy_version(seeded)
    page = client.get(URL)
    assert page.status_code == 200 and _runs(seeded) == 1  # only the seed's run
    assert f'hx-get="{URL}/valuation" hx-trigger="load"' in page.text
    assert "Valuing v2 with 300,000 Monte Carlo paths" in " ".join(page.text.split())
    assert f'href="{URL}?wait=true"' in page.text  # without JavaScript, a page that waits

    section = client.get(f"{URL}/valuation", headers={"HX-Request": "true"})
    assert section.status_code == 200 and _runs(seeded) == 2
    assert 'id="valuation"' in section.text and "300,000 draws" in section.text
    assert 'id="editor-shown" hidden hx-swap-oob="true"' in section.text
    again = client.get(URL)  # stored now: the page shows it straight away
    assert 'hx-trigger="load"' not in again.text and 'id="part-kpis"' in again.text


def test_without_javascript_the_page_can_wait(client: TestClient, seeded: Session) -> None:
    _heavy_version(seeded)
    page = client.get(URL, params={"wait": "true"})
    assert 'id="part-kpis"' in page.text and _runs(seeded) == 2
