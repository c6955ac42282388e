"""The SVG chart module: valid SVG, labels as real text, escaped."""

import xml.etree.ElementTree as ET

from app.charts import Band, Marker, Series, football_field, histogram, line_chart, svg

NS = "{http://www.w3.org/2000/svg}"


def _texts(document: str) -> list[str]:
    root = ET.fromstring(document)
    return [t.text for t in root.iter(f"{NS}text")]


def test_line_chart_has_axes_band_marker_and_escaped_labels() -> None:
    document = line_chart(
        [Series("Value <per> share", [10, 20, 30], [1.0, 2.0, 3.0])],
        title="Payoff & more",
        x_label="Acquirer price",
        y_label="USD",
        bands=[Band("collar", 15, 25)],
        markers=[Marker("today", 22)],
    )
    texts = _texts(document)
    assert "Value <per> share" in texts and "collar" in texts and "today" in texts
    assert "Acquirer price" in texts
    assert ET.fromstring(document).find(f"{NS}title").text == "Payoff & more"


def test_histogram_and_football_field_parse() -> None:
    bars = histogram([1, 3, 6], [0.0, 1.0, 2.0, 3.0], title="h", x_label="x")
    assert len(ET.fromstring(bars).findall(f".//{NS}rect")) == 3
    field = football_field([("DCF", 5.0, 9.0)], title="f", x_label="x", markers=[Marker("o", 8)])
    assert "DCF" in _texts(field)


def test_nice_ticks_cover_the_range() -> None:
    ticks = svg.nice_ticks(12.3, 20.4)
    assert ticks[0] <= 12.3 and ticks[-1] >= 20.4
    assert len(ticks) <= 8
