"""The deal valuation's charts, drawn from a stored run's results (so PDF and page agree)."""

from __future__ import annotations

import math
from typing import Any

from app.charts import Band, Marker, Series, football_field, histogram, line_chart
from app.web.formatting import money


def _dollars(value: float) -> str:
    return f"${value:,.0f}" if abs(value) >= 100 else f"${value:,.2f}".rstrip("0").rstrip(".")


def collar_payoff(results: dict[str, Any]) -> str:
    """Value per target share against the acquirer's price, with collar and walk-away zones."""
    x = results["exchange"]
    payoff = x["payoff"]
    bands = []
    if x.get("collar"):
        bands.append(Band("collar", *x["collar"]))
    if x.get("walkaway"):
        low, high = x["walkaway"]
        prices = payoff["acquirer_price"]
        bands.append(Band("walk-away", prices[0], low, colour="#f8e3e3"))
        bands.append(Band("walk-away", high, prices[-1], colour="#f8e3e3"))
    return line_chart(
        [Series("Value per target share", payoff["acquirer_price"], payoff["implied_price"])],
        title="Offer value per target share against the acquirer's share price",
        x_label="Acquirer share price (USD)",
        y_label="Value per target share (USD)",
        fx=_dollars,
        fy=_dollars,
        bands=bands,
        markers=_acquirer_prices(results),
    )


def _acquirer_prices(results: dict[str, Any]) -> list[Marker]:
    """Today's acquirer price, and the reference price the terms were set at if different."""
    today, reference = results["acquirer"]["share_price"], results["exchange"]["acquirer_price"]
    if abs(today - reference) < 0.005:
        return [Marker(f"today and reference {money(today)}", today)]
    return [
        Marker(f"today {money(today)}", today),
        Marker(f"reference {money(reference)}", reference, colour="#5b6675"),
    ]


def monte_carlo_histogram(results: dict[str, Any]) -> str:
    mc = results["monte_carlo"]
    offer = results["exchange"]["implied_price"]
    return histogram(
        mc["histogram"]["counts"],
        mc["histogram"]["edges"],
        title="Monte Carlo: target value per share",
        x_label="Target value per share (USD), P0.5 to P99.5",
        fx=_dollars,
        markers=[Marker(f"offer {money(offer)}", offer)],
    )


def valuation_football_field(results: dict[str, Any]) -> str:
    """Target value per share by method against the offer and the unaffected price."""
    grids = results["sensitivity"]["target"]
    rows = []
    for key, label in (("growth", "DCF, WACC x growth"), ("multiple", "DCF, WACC x exit multiple")):
        if key in grids:
            cells = [v for row in grids[key]["value_per_share"] for v in row]
            finite = [v for v in cells if v is not None and math.isfinite(v)]
            if finite:
                rows.append((label, min(finite), max(finite)))
    if results["exchange"].get("target_52_week"):
        rows.append(("52-week trading range", *results["exchange"]["target_52_week"]))
    mc = results["monte_carlo"]["percentiles"]
    rows += [
        ("Monte Carlo P5 to P95", mc["5"], mc["95"]),
        ("Monte Carlo P25 to P75", mc["25"], mc["75"]),
    ]
    offer = results["exchange"]["implied_price"]
    unaffected = results["exchange"]["target_unaffected_price"]
    return football_field(
        rows,
        title="Target value per share: football field",
        x_label="Value per target share (USD)",
        fx=_dollars,
        label_format=money,
        markers=[
            Marker(f"offer {money(offer)}", offer),
            Marker(f"unaffected {money(unaffected)}", unaffected, colour="#5b6675"),
        ],
    )


def charts(results: dict[str, Any]) -> dict[str, str]:
    return {
        "payoff": collar_payoff(results),
        "histogram": monte_carlo_histogram(results),
        "football_field": valuation_football_field(results),
    }
