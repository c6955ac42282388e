"""SVG charts drawn on the server from plain numbers (no DB, no web): pages and PDF share them."""

from app.charts.svg import Band, Marker, Series, football_field, histogram, line_chart

__all__ = ["Band", "Marker", "Series", "football_field", "histogram", "line_chart"]
