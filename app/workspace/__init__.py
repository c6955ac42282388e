"""The analyst's deal page: composes the deal, its assumption version and valuation."""
