"""schemathesis against the app's own OpenAPI document, in process, on both databases.

Every operation of /openapi.json is called with schema-driven examples, boundary cases and
invalid inputs (the examples, coverage and fuzzing phases), as an admin holding an API token,
against a database with the seeded deal; each response is checked by schemathesis: no 5xx,
every status code documented, bodies and headers as documented, invalid input refused, the
token actually required, `Allow` right on a 405. Operations run twice: with the path's slug
generated (mostly unknown deals: the 404 and 422 paths), and pinned to the seeded deal (the
paths that read and write it). Example counts are printed at the end of the run.

`positive_data_acceptance` is left out: it expects every schema-valid body to succeed, but
some rules span fields and cannot be said in JSON Schema (a fixed-ratio offer needs its
ratio, WACC must exceed terminal growth, a fact's value must suit its unit), so a 422 there
is right.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Receive, Scope, Send

from app.main import create_app
from app.settings import Settings

SEEDED_SLUG = "coreweave-core-scientific"
MAX_EXAMPLES = 30
RUNS: Counter[tuple[str, str, str]] = Counter()
"""Examples run, by (database, variant, operation); reported by tests/proofs/conftest.py."""
STATUSES: Counter[int] = Counter()


PLACEHOLDER = b"Bearer the-test-admin-token"
"""What cases carry as their credential; `LiveApp` swaps in the real token. schemathesis
builds some cases (its coverage phase) when the test is collected, before any login."""


class LiveApp:
    """A stable ASGI app for the module-level schemas, forwarding to the current test's app.

    schemathesis needs the app when the schema is loaded (at import), but each test's app is
    bound to that test's database transaction, so this stands in for it. It answers the
    lifespan itself: the real app's lifespan already ran under the test's TestClient.
    """

    def __init__(self) -> None:
        self.target: ASGIApp | None = None
        self.authorization = b""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        assert self.target is not None, "no test app: use the `live_api` fixture"
        scope["headers"] = [
            (
                name,
                self.authorization if (name, value) == (b"authorization", PLACEHOLDER) else value,
            )
            for name, value in scope["headers"]
        ]
        await self.target(scope, receive, send)


LIVE = LiveApp()


class AdminToken:
    """The admin's API token, the way the schema's `ApiToken` scheme says: schemathesis knows
    it is the credential, so it also tries requests without it, or with a bad one."""

    def get(self, case: Any, context: Any) -> str:
        return PLACEHOLDER.decode()

    def set(self, case: Any, authorization: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": authorization}


def _schema(**parameters: Any) -> Any:
    document = create_app(Settings(database_url="sqlite://")).openapi()
    loaded = schemathesis.openapi.from_dict(document)
    loaded.config.update(base_url="http://testserver", parameters=parameters or None)
    loaded.app = LIVE
    loaded.auth(refresh_interval=None)(AdminToken)
    return loaded


generated = _schema()
pinned = _schema(slug=SEEDED_SLUG).include(path_regex=r"\{slug\}")


@pytest.fixture
def live_api(client: TestClient, seeded: Session) -> Iterator[None]:
    """Route the schemas' calls to this test's app, with its admin's API token."""
    LIVE.target = client.app
    LIVE.authorization = client.headers["Authorization"].encode()
    yield
    LIVE.target, LIVE.authorization = None, b""


def _check(case: Any, database_url: str, variant: str) -> None:
    response = case.call_and_validate(excluded_checks=[positive_data_acceptance])
    database = database_url.partition(":")[0].partition("+")[0]
    RUNS[(database, variant, case.operation.label)] += 1
    STATUSES[response.status_code] += 1


SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    # One database transaction per operation, shared by its examples, is the point.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@generated.parametrize()
@SETTINGS
def test_api_with_generated_slugs(case: Any, live_api: None, database_url: str) -> None:
    _check(case, database_url, "generated")


@pinned.parametrize()
@SETTINGS
def test_api_on_the_seeded_deal(case: Any, live_api: None, database_url: str) -> None:
    _check(case, database_url, "pinned")
