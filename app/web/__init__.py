"""Shared web plumbing: the Jinja environment, display filters and htmx helpers."""
