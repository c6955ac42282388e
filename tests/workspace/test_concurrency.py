"""Fifty analysts save on top of the same version at once, against PostgreSQL: one wins,
every other request gets a 409, and no version is lost or half-written."""

import re
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from app.assumptions.models import AssumptionHead, AssumptionSet
from app.db import make_engine, make_session_factory
from app.server import logged_in, seeded_server
from app.web.csrf import HEADER
from tests.conftest import fresh_postgres_database, postgres_url

pytestmark = pytest.mark.postgres
SAVES = 50


def test_concurrent_conflicting_saves() -> None:
    url = fresh_postgres_database(postgres_url("_concurrency"))
    # The test is about conflicts, not pool capacity: 50 saves queue for the 15 connections,
    # and on a busy machine some would wait past the 5 s default and get a (correct) 503.
    with seeded_server(url, db_pool_timeout=120.0) as base:
        opener, token = logged_in(base, "analyst")
        deal_url = base + "/deals/coreweave-core-scientific"
        page = opener.open(deal_url).read().decode()
        form = dict(re.findall(r'<input[^>]*? name="([^"]+)" value="([^"]*)"', page))

        def save(i: int) -> int:
            body = form | {"note": f"analyst {i}", "target.cost_of_capital.beta": f"1.{i:02d}"}
            request = urllib.request.Request(
                deal_url + "/versions",
                data=urllib.parse.urlencode(body).encode(),
                headers={HEADER: token, "HX-Request": "true", "Origin": base},
            )
            try:
                with opener.open(request) as response:
                    return response.status
            except urllib.error.HTTPError as error:
                return error.code

        with ThreadPoolExecutor(max_workers=SAVES) as pool:
            statuses = list(pool.map(save, range(SAVES)))

    assert sorted(statuses) == [200] + [409] * (SAVES - 1), statuses
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            versions = session.scalars(select(AssumptionSet).order_by(AssumptionSet.version)).all()
            head = session.scalars(select(AssumptionHead)).one()
            assert [v.version for v in versions] == [1, 2]
            assert head.assumption_set_id == versions[1].id
            assert versions[1].parent_id == versions[0].id
            assert versions[1].note.startswith("analyst ")
    finally:
        engine.dispose()
