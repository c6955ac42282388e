"""Valuing a whole deal from one saved version, on both databases."""

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.assumptions.schemas import AssumptionPayload
from app.assumptions.service import current_version, save_version
from app.deals.service import get_deal
from app.engine import ENGINE_VERSION
from app.seed import load_assumptions
from app.valuation.models import ValuationRun
from app.valuation.service import current_run, run_valuation, value_payload


@pytest.fixture
def version(seeded: Session):
    deal = get_deal(seeded, "coreweave-core-scientific", viewer=None)
    return current_version(seeded, deal.id)


def test_seed_stores_a_run_that_the_page_reuses(seeded: Session, version) -> None:
    assert seeded.scalar(select(func.count()).select_from(ValuationRun)) == 1
    run = current_run(seeded, version)
    assert run.engine_version == ENGINE_VERSION
    assert seeded.scalar(select(func.count()).select_from(ValuationRun)) == 1


def test_same_version_engine_and_seed_give_identical_numbers(seeded: Session, version) -> None:
    first = current_run(seeded, version)
    second = run_valuation(seeded, version)
    seeded.expire_all()  # read both back from the database, not from memory
    stored = seeded.scalars(select(ValuationRun).order_by(ValuationRun.id)).all()
    assert stored[0].id == first.id and stored[1].id == second.id
    assert stored[0].results == stored[1].results
    assert stored[0].seed == stored[1].seed == 20250707


def test_the_reference_deal_values_end_to_end(seeded: Session, version) -> None:
    r = current_run(seeded, version).results
    assert round(r["exchange"]["implied_price"], 2) == 20.40
    assert round(r["exchange"]["premium"], 2) == 0.66
    assert r["exchange"]["equity_value"] == pytest.approx(9.0e9, rel=0.005)
    assert r["exchange"]["effective_ratio"] == 0.1235
    assert 0 < r["exchange"]["target_ownership"] < 0.2
    assert r["synergies"]["pre_tax"][1] == pytest.approx(0.9 * 5.0e8)  # phase-in 100% less costs
    assert r["ev_per_mw"] == pytest.approx(r["exchange"]["enterprise_value"] / 1300)
    mc = r["monte_carlo"]
    assert mc["n_valid"] + mc["n_rejected"] == mc["n_requested"] == 100_000
    assert mc["percentiles"]["5"] < mc["percentiles"]["50"] < mc["percentiles"]["95"]
    grids = r["sensitivity"]["target"]
    assert grids["primary"] == "growth"
    centre = grids["growth"]["value_per_share"][2][2]
    assert centre == pytest.approx(r["target"]["dcf"]["value_per_share"], rel=1e-12)
    # The exit-multiple grid is centred on the Gordon value's implied multiple (to 0.5x).
    implied = r["target"]["dcf"]["implied_exit_multiple"]
    assert grids["multiple"]["column_values"][2] == round(implied * 2) / 2
    # Close, not equal: the multiple is rounded, and (mid-year) discounted at n, not n - 0.5.
    assert grids["multiple"]["value_per_share"][2][2] == pytest.approx(centre, rel=0.1)
    assert len(r["meta"]["years"]) == 5 and r["meta"]["years"][0] == 2026


def test_a_different_seed_changes_only_the_monte_carlo() -> None:
    payload = load_assumptions("coreweave-core-scientific")
    a, b = value_payload(payload), value_payload(payload, seed=1)
    assert a["monte_carlo"] != b["monte_carlo"]
    assert a["target"] == b["target"] and a["exchange"] == b["exchange"]


def test_a_version_the_engine_refuses_shows_why_on_the_page(
    client, seeded: Session, version
) -> None:
    payload = load_assumptions("coreweave-core-scientific")
    terminal = payload.target.terminal.model_copy(update={"growth": 0.2})
    broken = payload.model_copy(
        update={"target": payload.target.model_copy(update={"terminal": terminal})}
    )
    save_version(seeded, version.deal_id, broken, author="ana", expected_parent_id=version.id)
    seeded.commit()
    page = client.get("/deals/coreweave-core-scientific")
    assert page.status_code == 200
    assert "These assumptions cannot be valued" in page.text
    assert "target.terminal.growth: WACC" in page.text


def test_vwap_premium_and_52_week_range_where_known() -> None:
    from app.assumptions.schemas import PriceBand
    from app.valuation.charts import valuation_football_field

    payload = load_assumptions("coreweave-core-scientific")
    assert payload.deal_terms.target_vwap is None  # not published for this deal
    terms = payload.deal_terms.model_copy(
        update={"target_vwap": 14.0, "target_52_week": PriceBand(lower=6.2, upper=16.4)}
    )
    r = value_payload(payload.model_copy(update={"deal_terms": terms}))
    assert r["exchange"]["premium_to_vwap"] == pytest.approx(0.1235 * 165.2 / 14.0 - 1)
    assert "52-week trading range" in valuation_football_field(r)


def test_converted_notes_are_not_also_debt() -> None:
    """A convertible in the money counts as shares and leaves debt: never both."""
    r = value_payload(load_assumptions("coreweave-core-scientific"))
    bridge, dcf = r["target"]["bridge"], r["target"]["dcf"]
    # 85M shares at a $10.00 conversion price: $850M of the $1.15B debt converts at $12.30.
    assert bridge["converted_debt"] == 850e6 and bridge["debt"] == 300e6
    equity = dcf["enterprise_value"] + 754.1e6 - 300e6 - 1.0e9
    assert dcf["equity_value"] == pytest.approx(equity, rel=1e-12)
    # The offer's EV adds net debt on the same basis (the notes convert at $20.40 too).
    x = r["exchange"]
    assert x["enterprise_value"] == pytest.approx(x["equity_value"] + 300e6 + 1.0e9 - 754.1e6)


def test_convertibles_must_sit_in_debt() -> None:
    data = load_assumptions("coreweave-core-scientific").model_dump(mode="json")
    data["target"]["bridge"]["debt"] = 500e6  # less than the $850M of convertibles
    with pytest.raises(ValidationError, match="must include the convertibles' principal"):
        AssumptionPayload.model_validate(data)


def test_coreweave_issuance_on_both_bases_matches_the_filings() -> None:
    """The proxy's 9.4% and 39,685,636 new shares (basic) beside the ~$9B fully diluted value."""
    x = value_payload(load_assumptions("coreweave-core-scientific"))["exchange"]
    assert x["implied_price"] == pytest.approx(20.40, abs=0.005)  # published, to the cent
    assert round(x["premium"], 2) == 0.66  # published "66%"
    assert x["basic"]["new_shares"] == pytest.approx(39_685_636, abs=1)
    assert round(x["basic"]["target_ownership"], 3) == 0.094  # proxy: 9.4% / 90.6%
    assert round(x["basic"]["equity_value"] / 1e9, 1) == 6.6  # the "derived puzzle"
    assert round(x["equity_value"] / 1e9, 1) == 9.0  # "about $9 billion, fully diluted"
    assert x["target_ownership"] > x["basic"]["target_ownership"]
