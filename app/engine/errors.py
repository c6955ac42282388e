"""The one error the engine raises for bad input: it names the field and the reason."""


class EngineInputError(ValueError):
    """Bad input to an engine function; `field` is the input's name (or dotted path).

    >>> str(EngineInputError("tax_rate", "25 looks like a percent"))
    'tax_rate: 25 looks like a percent'
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
