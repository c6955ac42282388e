"""Display formatting: the only place numbers are rounded.

Negative figures show in parentheses, as in a financial statement. A missing or non-finite
value shows as an em dash, never as "nan".
"""

import math
from datetime import date

DASH = "—"
_SCALES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"))


def _missing(value: float | None) -> bool:
    return value is None or not math.isfinite(value)


def _signed(text: str, negative: bool) -> str:
    return f"({text})" if negative else text


def money(value: float | None, decimals: int = 2) -> str:
    """$20.40; ($3.15) for negatives.

    >>> money(20.4), money(-3.149), money(1234567.891)
    ('$20.40', '($3.15)', '$1,234,567.89')
    """
    if _missing(value):
        return DASH
    return _signed(f"${abs(value):,.{decimals}f}", value < 0)


def compact(value: float | None, decimals: int = 1, prefix: str = "") -> str:
    """Large figures with a scale letter: 9.0e9 -> 9.0B.

    >>> compact(9.0e9), compact(441.18e6), compact(-2.5e9, prefix="$"), compact(950)
    ('9.0B', '441.2M', '($2.5B)', '950.0')
    """
    if _missing(value):
        return DASH
    magnitude = abs(value)
    for scale, letter in _SCALES:
        if round(magnitude / scale, decimals) >= 1:
            return _signed(f"{prefix}{magnitude / scale:,.{decimals}f}{letter}", value < 0)
    return _signed(f"{prefix}{magnitude:,.{decimals}f}", value < 0)


def millions(value: float | None, decimals: int = 1) -> str:
    """A figure in millions, for tables headed "USD m": one scale down a whole column.

    >>> millions(503.04e6), millions(-9.5e9), millions(0.0)
    ('503.0', '(9,500.0)', '0.0')
    """
    if _missing(value):
        return DASH
    return _signed(
        f"{abs(value) / 1e6:,.{decimals}f}", value < 0 and round(value / 1e6, decimals) != 0
    )


def money_compact(value: float | None, decimals: int = 1) -> str:
    """$9.0B, $754.1M, ($1.2B).

    >>> money_compact(9.0e9), money_compact(754.1e6)
    ('$9.0B', '$754.1M')
    """
    return compact(value, decimals, prefix="$")


def percent(value: float | None, decimals: int = 1, missing: str = DASH) -> str:
    """A fraction shown as a percent: 0.66 -> 66.0%; -0.05 -> (5.0%).

    `missing` is what a figure that does not exist shows: accretion on a loss is "n.m."
    (not meaningful), an unknown figure an em dash.

    >>> percent(0.66), percent(0.6585365), percent(-0.05), percent(None, missing="n.m.")
    ('66.0%', '65.9%', '(5.0%)', 'n.m.')
    """
    if _missing(value):
        return missing
    return _signed(f"{abs(value) * 100:,.{decimals}f}%", value < 0)


def ratio(value: float | None, decimals: int = 4) -> str:
    """Exchange ratios keep four decimals: 0.1235x.

    >>> ratio(0.1235)
    '0.1235x'
    """
    if _missing(value):
        return DASH
    return _signed(f"{abs(value):.{decimals}f}x", value < 0)


def number(value: float | None, decimals: int = 0) -> str:
    """Whole numbers with thousands separators.

    >>> number(39685636)
    '39,685,636'
    """
    if _missing(value):
        return DASH
    return _signed(f"{abs(value):,.{decimals}f}", value < 0)


def megawatts(value: float | None) -> str:
    """Power capacity, in GW from 1,000 MW.

    >>> megawatts(1300), megawatts(250)
    ('1.3 GW', '250 MW')
    """
    if _missing(value):
        return DASH
    if abs(value) >= 1000:
        return f"{value / 1000:,.1f} GW"
    return f"{value:,.0f} MW"


def long_date(value: date | None) -> str:
    """Unambiguous dates for readers on either side of the Atlantic.

    >>> long_date(date(2025, 7, 7))
    '7 Jul 2025'
    """
    if value is None:
        return DASH
    return f"{value.day} {value:%b %Y}"


def input_number(value: float | None) -> str:
    """A number as an analyst would type it back: exact, no float noise, thousands separated.

    The digits are Python's shortest round-trip form, so re-submitting an untouched field
    gives back the very same float and a saved version never drifts.

    >>> input_number(5.0e9), input_number(0.1235), input_number(100000), input_number(None)
    ('5,000,000,000', '0.1235', '100,000', '')
    >>> input_number(441176470.5882353), input_number(-1.5e-7)
    ('441,176,470.5882353', '-1.5e-07')
    """
    if value is None:
        return ""
    if isinstance(value, int):
        return f"{value:,}"
    text = repr(float(value))
    if "e" in text or "n" in text:  # exponents, inf, nan: leave as Python writes them
        return text
    whole, _, fraction = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    grouped = f"{sign}{int(whole.lstrip('-')):,}"
    return grouped if fraction in ("", "0") else f"{grouped}.{fraction}"


def heat(value: float | None, base: float | None) -> str:
    """A heatmap cell's classes: its distance from the base case in five steps each way (a
    class, not an inline style: the CSP allows none). A function, not a template macro: a
    preview colours a few hundred cells.

    >>> heat(105.0, 100.0), heat(80.0, 100.0), heat(100.0, 100.0), heat(500.0, 100.0)
    ('heat up-1', 'heat down-2', '', 'heat up-5')
    """
    if value is None or not base:
        return ""
    distance = max(min(value / base - 1, 0.5), -0.5)
    step = math.ceil(abs(distance) * 10)
    if not step:
        return ""
    return f"heat {'up' if distance > 0 else 'down'}-{min(step, 5)}"


def by_unit(value: float | None, unit: str) -> str:
    """Format a stored fact by its unit (see app.deals.models.FactUnit)."""
    formatters = {
        "usd": money_compact,
        "usd_per_share": money,
        "ratio": ratio,
        "fraction": percent,
        "shares": compact,
        "mw": megawatts,
        "count": number,
    }
    return formatters.get(unit, number)(value)


FILTERS = {
    "money": money,
    "money_compact": money_compact,
    "compact": compact,
    "millions": millions,
    "percent": percent,
    "ratio": ratio,
    "number": number,
    "megawatts": megawatts,
    "long_date": long_date,
    "by_unit": by_unit,
    "input_number": input_number,
    "heat": heat,
}
