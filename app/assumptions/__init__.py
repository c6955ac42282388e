"""Assumption sets: the file format, immutable versions, and each deal's current version."""
