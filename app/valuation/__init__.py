"""Valuing a deal: the engine run on one assumption version, stored as a ValuationRun."""
