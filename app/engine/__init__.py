"""Dealbook's valuation engine: pure NumPy, vectorised over scenarios, no I/O.

Leading axes are scenarios, the last axis of a per-year input is the projection year. Rates
are fractions; money is float64 in currency units; bad input raises EngineInputError naming
the field. Formulas and conventions: docs/methodology.md.
"""

from app.engine.accretion import (
    AccretionResult,
    ProFormaInputs,
    accretion_dilution,
    contribution,
    ev_per_mw,
)
from app.engine.checks import MIN_SPREAD
from app.engine.dcf import DCFInputs, DCFResult, dcf
from app.engine.errors import EngineInputError
from app.engine.exchange import (
    STRUCTURES,
    ExchangeResult,
    exchange_offer,
    ratio_for_ownership,
    ratio_for_premium,
    vwap,
)
from app.engine.scenarios import (
    PERCENTILES,
    Distribution,
    GridResult,
    MonteCarloResult,
    dcf_grid,
    exchange_grid,
    monte_carlo_dcf,
)
from app.engine.shares import DilutedShares, diluted_shares, treasury_stock_method
from app.engine.synergies import (
    SynergyInputs,
    SynergyResult,
    SynergySplit,
    breakeven_synergies,
    synergy_split,
    synergy_value,
)
from app.engine.wacc import (
    WaccResult,
    after_tax_cost_of_debt,
    capm_cost_of_equity,
    relever_beta,
    unlever_beta,
    wacc,
)

ENGINE_VERSION = "1.5.0"
"""Stored with every valuation run; bump it whenever any number the engine makes can change."""

__all__ = [
    "ENGINE_VERSION",
    "MIN_SPREAD",
    "PERCENTILES",
    "STRUCTURES",
    "AccretionResult",
    "DCFInputs",
    "DCFResult",
    "DilutedShares",
    "Distribution",
    "EngineInputError",
    "ExchangeResult",
    "GridResult",
    "MonteCarloResult",
    "ProFormaInputs",
    "SynergyInputs",
    "SynergyResult",
    "SynergySplit",
    "WaccResult",
    "accretion_dilution",
    "after_tax_cost_of_debt",
    "breakeven_synergies",
    "capm_cost_of_equity",
    "contribution",
    "dcf",
    "dcf_grid",
    "diluted_shares",
    "ev_per_mw",
    "exchange_grid",
    "exchange_offer",
    "monte_carlo_dcf",
    "ratio_for_ownership",
    "ratio_for_premium",
    "relever_beta",
    "synergy_split",
    "synergy_value",
    "treasury_stock_method",
    "unlever_beta",
    "vwap",
    "wacc",
]
