"""The authenticated user of one request: plain data the services can be handed."""

from __future__ import annotations

from dataclasses import dataclass

from app.audit.service import Actor
from app.auth.models import Role


@dataclass(frozen=True)
class Principal:
    """The authenticated user of one request, and how they proved it."""

    user_id: int
    username: str
    display: str
    role: Role
    via: str
    """"session" (a browser), "token" (the API) or "cli"."""
    must_change_password: bool = False
    session_id: int | None = None
    address: str = ""

    def at_least(self, role: Role) -> bool:
        return self.role.rank >= Role(role).rank

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def actor(self) -> Actor:
        return Actor(self.display, self.user_id, self.address)
