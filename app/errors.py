"""Domain errors raised by services; app/main.py turns them into 4xx pages or JSON."""


class DomainError(Exception):
    status_code = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFoundError(DomainError):
    status_code = 404


class ConflictError(DomainError):
    status_code = 409


class UnprocessableError(DomainError):
    status_code = 422


class UnavailableError(DomainError):
    """Something this server cannot do right now or without a missing system package."""

    status_code = 503


class VersionConflict(ConflictError):
    """A save based on a version that is no longer current: names both, so the page can
    offer the difference."""

    def __init__(self, message: str, *, based_on: int | None, current: int | None) -> None:
        super().__init__(message, field="parent")
        self.based_on = based_on
        self.current = current
