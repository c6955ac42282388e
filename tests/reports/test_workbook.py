"""The Excel model: downloaded through the app, recalculated by an independent spreadsheet
engine (the `formulas` package, not Dealbook's code), equal to Dealbook's stored results.

openpyxl writes formulas without cached values, so every number checked here was computed
by `formulas` from the Inputs sheet: nothing is read back from what Dealbook wrote.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import formulas
import numpy as np
import openpyxl
import pytest
from fastapi.testclient import TestClient
from formulas.tokens.operand import XlError
from sqlalchemy.orm import Session

from app.assumptions.schemas import AssumptionPayload
from app.assumptions.service import current_version, save_version
from app.deals.service import get_deal
from app.seed import load_assumptions

SLUG = "coreweave-core-scientific"
MONEY = {"abs": 0.005, "rel": 0.0}
RATIO = {"abs": 0.0, "rel": 1e-9}

# Defined name in the workbook -> where Dealbook stores the figure, and the tolerance.
FIGURES: dict[str, tuple[tuple[str, ...], dict[str, float]]] = {
    "acq_enterprise_value": (("acquirer", "dcf", "enterprise_value"), MONEY),
    "acq_equity_value": (("acquirer", "dcf", "equity_value"), MONEY),
    "acq_value_per_share": (("acquirer", "dcf", "value_per_share"), MONEY),
    "acq_wacc": (("acquirer", "wacc", "wacc"), RATIO),
    "acq_diluted_shares": (("acquirer", "diluted_shares"), RATIO),
    "tgt_enterprise_value": (("target", "dcf", "enterprise_value"), MONEY),
    "tgt_equity_value": (("target", "dcf", "equity_value"), MONEY),
    "tgt_value_per_share": (("target", "dcf", "value_per_share"), MONEY),
    "tgt_terminal_value": (("target", "dcf", "terminal_value"), MONEY),
    "tgt_wacc": (("target", "wacc", "wacc"), RATIO),
    "tgt_diluted_shares": (("target", "diluted_shares"), RATIO),
    "offer_effective_ratio": (("exchange", "effective_ratio"), RATIO),
    "offer_implied_price": (("exchange", "implied_price"), MONEY),
    "offer_premium": (("exchange", "premium"), RATIO),
    "offer_target_diluted_shares": (("exchange", "target_diluted_shares"), RATIO),
    "offer_equity_value": (("exchange", "equity_value"), MONEY),
    "offer_enterprise_value": (("exchange", "enterprise_value"), MONEY),
    "offer_new_shares": (("exchange", "new_shares"), RATIO),
    "offer_target_ownership": (("exchange", "target_ownership"), RATIO),
    "offer_target_ownership_basic": (("exchange", "basic", "target_ownership"), RATIO),
}
MODEL_SHEETS = ("Acquirer DCF", "Target DCF", "Exchange")


def recalculate(data: bytes, folder: Path) -> dict[str, Any]:
    """Each defined name's value after `formulas` recalculates the whole workbook.

    Also fails on any cell the engine evaluates to an Excel error (#VALUE!, #NAME?, ...),
    so a function it does not support cannot hide behind an unchecked cell.
    """
    path = folder / "model.xlsx"
    path.write_bytes(data)
    solution = formulas.ExcelModel().loads(str(path)).finish().calculate()
    cells = {
        key.upper(): np.asarray(getattr(v, "value", v), dtype=object) for key, v in solution.items()
    }
    errors = [key for key, v in cells.items() if any(isinstance(x, XlError) for x in v.flat)]
    assert not errors, f"cells evaluating to errors: {errors[:10]}"
    values = {}
    for name, defined in openpyxl.load_workbook(path).defined_names.items():
        ((sheet, ref),) = defined.destinations
        key = f"'[{path.name}]{sheet}'!{ref.replace('$', '')}".upper()
        if key in cells:
            value = cells[key]
            values[name] = value.flat[0] if value.size == 1 else value
    return values


def stored(results: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        results = results[key]
    return results


def assert_recalculates(data: bytes, results: dict[str, Any], folder: Path) -> dict[str, Any]:
    values = recalculate(data, folder)
    for name, (path, tolerance) in FIGURES.items():
        expected = stored(results, path)
        assert float(values[name]) == pytest.approx(expected, **tolerance), name
    return values


def download(client: TestClient, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, response.text
    return response.content


# --- The seeded deal ----------------------------------------------------------------------


def test_the_seeded_workbook_recalculates_to_the_stored_run(
    client: TestClient, seeded: Session, tmp_path: Path
) -> None:
    response = client.get(f"/deals/{SLUG}/model.xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response.headers["content-disposition"] == (
        f'attachment; filename="{SLUG}-model-v1.xlsx"'
    )
    run = client.get(f"/api/v1/deals/{SLUG}/valuation").json()
    values = assert_recalculates(response.content, run["results"], tmp_path)
    # The published terms: 0.1235 x $165.20 = $20.40, a 66% premium, about $9.0B.
    assert round(float(values["offer_implied_price"]), 2) == 20.40
    assert round(float(values["offer_premium"]), 2) == 0.66
    assert values["offer_premium_to_vwap"] == "n/a"  # no VWAP for this deal


def test_a_version_number_gives_that_versions_workbook(
    client: TestClient, seeded: Session, tmp_path: Path
) -> None:
    data = download(client, f"/deals/{SLUG}/versions/1/model.xlsx")
    sheets = openpyxl.load_workbook(io.BytesIO(data)).sheetnames
    assert sheets == [
        "Inputs",
        "Acquirer DCF",
        "Target DCF",
        "Exchange",
        "Sensitivity",
        "Monte Carlo",
        "Checks",
    ]
    assert client.get(f"/deals/{SLUG}/versions/9/model.xlsx").status_code == 404
    assert client.get("/deals/no-such-deal/model.xlsx").status_code == 404


def test_the_model_is_formulas_on_the_inputs_names(client: TestClient, seeded: Session) -> None:
    book = openpyxl.load_workbook(io.BytesIO(download(client, f"/deals/{SLUG}/model.xlsx")))
    names = book.defined_names

    def cell(name: str) -> Any:
        ((sheet, ref),) = names[name].destinations
        return book[sheet][ref.replace("$", "")]

    for name in names:
        ((sheet, ref),) = names[name].destinations
        if ":" in ref:  # a year row or the price history: input ranges
            assert sheet == "Inputs", name
            continue
        if sheet in MODEL_SHEETS:
            assert cell(name).data_type == "f" and str(cell(name).value).startswith("="), name
        else:
            assert sheet == "Inputs" and cell(name).data_type != "f", name
    # A per-year input is one row of the Inputs sheet, a year a cell.
    ((sheet, ref),) = names["tgt_revenue_growth"].destinations
    growth = book[sheet][ref.replace("$", "")]
    assert sheet == "Inputs" and len(growth) == 1 and len(growth[0]) == 5
    assert [c.value for c in growth[0]] == [0.6, 0.8, 0.6, 0.3, 0.1]
    assert cell("tgt_enterprise_value").value.startswith("=")
    formulas_text = " ".join(
        str(c.value)
        for sheet in MODEL_SHEETS
        for row in book[sheet].iter_rows()
        for c in row
        if c.data_type == "f"
    )
    for name in (
        "tgt_revenue_growth",
        "tgt_ebit_margin",
        "tgt_tax_rate",
        "tgt_base_revenue",
        "tgt_mid_year",
        "tgt_unlevered_beta",
        "tgt_wacc_override",
        "tgt_terminal_growth",
        "tgt_warrant1_strike",
        "tgt_convertible1_price",
        "acq_debt",
        "deal_exchange_ratio",
        "deal_collar_lower",
        "deal_acquirer_price",
        "deal_unaffected_price",
    ):
        assert name in formulas_text, name
    # No pasted figures on the model sheets: every number there is a formula, except the
    # years and the period counters 1..n heading the DCF columns.
    headings = {"Free cash flow to the firm", "Period t"}
    for sheet in MODEL_SHEETS:
        for row in book[sheet].iter_rows():
            for c in row:
                if isinstance(c.value, int | float) and not isinstance(c.value, bool):
                    assert c.value == 0 or book[sheet].cell(c.row, 1).value in headings, (
                        f"{sheet}!{c.coordinate} holds the value {c.value}"
                    )
    # Sensitivity and Monte Carlo are values, labelled with their run and seed.
    for sheet in ("Sensitivity", "Monte Carlo"):
        note = book[sheet]["A2"].value
        assert "Values, not formulas" in note and "seed 20250707" in note
        assert not any(c.data_type == "f" for row in book[sheet].iter_rows() for c in row)


# --- Variants: collars, exit multiples, end-of-year, dilution -----------------------------


def _variant(name: str) -> AssumptionPayload:
    """The seed, changed so that every branch of the formulas is taken by one variant."""
    data = load_assumptions(SLUG).model_dump(mode="json")
    terms, acq, tgt = data["deal_terms"], data["acquirer"], data["target"]
    data["scenarios"]["monte_carlo"]["scenarios"] = 1_000
    if name == "fixed_value_below_collar":
        # P = 165.20 is below the collar: the ratio is V / lower. Cash on top, a VWAP given.
        terms |= {"structure": "fixed_value", "value_per_share": 21.0, "cash_per_share": 1.5}
        terms |= {"collar": {"lower": 170.0, "upper": 190.0}, "target_vwap": 14.0}
        terms |= {"walkaway": {"lower": 170.5, "upper": 200.0}}  # P is below it: a flag only
        # Target: exit multiple with mid-year flows (the multiple is discounted at n), an
        # asset beta relevered by Hamada, options out of the money at $12.30 but in at the
        # offer, and a second note that converts at the offer but not at the share price.
        tgt["terminal"] |= {"method": "exit_multiple", "ev_ebitda": 12.0}
        tgt["cost_of_capital"]["unlevered_beta"] = 1.1
        tgt["shares"]["options"] = [{"count": 5e6, "strike": 15.0}]
        tgt["shares"]["convertibles"].append(
            {"shares": 20e6, "conversion_price": 18.0, "principal": 400e6}
        )
        tgt["bridge"]["debt"] = 1.6e9
        # Acquirer: end-of-year discounting, an analyst's WACC, options either side of its
        # $160 share price, warrants and RSUs.
        acq |= {"mid_year": False, "share_price": 160.0}
        acq["cost_of_capital"]["wacc"] = 0.105
        acq["shares"] |= {"rsus": 3e6, "warrants": [{"count": 2e6, "strike": 100.0}]}
        acq["shares"]["options"] = [
            {"count": 10e6, "strike": 60.0},
            {"count": 4e6, "strike": 300.0},
        ]
        # Text a spreadsheet would run, in the payload's own free text.
        tgt["name"] = "=cmd|' /C calc'!A0"
        data["provenance"]["target.operating.tax_rate"]["note"] = "+1 pt over statutory"
    else:
        # P = 165.20 is above the collar: the ratio is r x upper / P. VWAP from a history.
        terms |= {"collar": {"lower": 120.0, "upper": 150.0}}
        terms["target_price_history"] = {
            "prices": [11.8, 12.1, 12.3],
            "volumes": [1.0e6, 2.0e6, 1.5e6],
        }
        tgt["mid_year"] = False  # Gordon, end of year: TV discounted at n
        acq["terminal"] |= {"method": "exit_multiple", "ev_ebitda": 14.0}
        acq["mid_year"] = False
        acq["shares"]["convertibles"] = [{"shares": 5e6, "conversion_price": 100.0}]
    return AssumptionPayload.model_validate(data)


VARIANTS = ("fixed_value_below_collar", "fixed_ratio_above_collar")


@pytest.mark.parametrize("variant", VARIANTS)
def test_variants_recalculate_to_their_runs(
    client: TestClient, seeded: Session, tmp_path: Path, variant: str
) -> None:
    deal = get_deal(seeded, SLUG, viewer=None)
    parent = current_version(seeded, deal.id)
    note = '=HYPERLINK("http://example.invalid","click")'
    payload = _variant(variant)
    save_version(seeded, deal.id, payload, author="ana", note=note, expected_parent_id=parent.id)
    seeded.commit()
    data = download(client, f"/deals/{SLUG}/versions/2/model.xlsx")
    run = client.get(f"/api/v1/deals/{SLUG}/valuation").json()
    assert run["assumption_version"] == 2
    results = run["results"]
    values = assert_recalculates(data, results, tmp_path)
    x = results["exchange"]
    if variant == "fixed_value_below_collar":
        assert x["effective_ratio"] == pytest.approx(21.0 / 170.0, rel=1e-12)
        assert float(values["offer_premium_to_vwap"]) == pytest.approx(
            x["premium_to_vwap"], rel=1e-9
        )
        # Dilution differs between the DCF (at $12.30) and the offer (at about $21.90).
        assert results["target"]["bridge"]["converted_debt"] == 850e6
        assert x["target_diluted_shares"] > results["target"]["diluted_shares"] + 20e6
    else:
        assert x["effective_ratio"] == pytest.approx(0.1235 * 150.0 / 165.2, rel=1e-12)
        vwap = (11.8 * 1e6 + 12.1 * 2e6 + 12.3 * 1.5e6) / 4.5e6
        assert float(values["offer_premium_to_vwap"]) == pytest.approx(
            x["implied_price"] / vwap - 1, rel=1e-9
        )
        assert results["acquirer"]["bridge"]["converted_debt"] == 500e6


def test_text_that_would_run_as_a_formula_is_neutralised(
    client: TestClient, seeded: Session
) -> None:
    deal = get_deal(seeded, SLUG, viewer=None)
    parent = current_version(seeded, deal.id)
    note = '=HYPERLINK("http://example.invalid","click")'
    payload = _variant("fixed_value_below_collar")
    save_version(
        seeded, deal.id, payload, author="@analyst", note=note, expected_parent_id=parent.id
    )
    seeded.commit()
    book = openpyxl.load_workbook(io.BytesIO(download(client, f"/deals/{SLUG}/model.xlsx")))
    texts = [c for ws in book for row in ws.iter_rows() for c in row if c.data_type == "s"]
    risky = [c for c in texts if str(c.value).startswith(("=", "+", "-", "@"))]
    assert not risky, [(c.parent.title, c.coordinate, c.value) for c in risky]
    shown = {str(c.value) for c in texts}
    assert "'" + note in shown
    assert "'=cmd|' /C calc'!A0" in shown
    assert any(s.startswith("'+1 pt over statutory") for s in shown)
    # None of that text became a formula anywhere.
    formula_text = " ".join(
        str(c.value) for ws in book for row in ws.iter_rows() for c in row if c.data_type == "f"
    )
    assert "HYPERLINK" not in formula_text and "cmd" not in formula_text
