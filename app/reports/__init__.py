"""Exports of a valuation run: the board-ready PDF and the Excel model."""
