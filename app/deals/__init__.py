"""Companies and deals: the published facts of a transaction and where each was read."""
