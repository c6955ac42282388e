"""The assumption editor: live preview, inline errors, saving versions, CSRF; both databases."""

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from app.assumptions.models import AssumptionSet
from app.engine import ENGINE_VERSION
from app.valuation.models import ValuationRun
from app.valuation.service import run_valuation

URL = "/deals/coreweave-core-scientific"


def _form(client: TestClient, **edits: str) -> dict[str, str]:
    page = client.get(URL).text
    form = dict(re.findall(r'<input[^>]*? name="([^"]+)" value="([^"]*)"', page))
    form.update(edits)
    return form


def _post(client: TestClient, path: str, form: dict, token: str, htmx: bool = True):
    headers = {"X-CSRF-Token": token} | ({"HX-Request": "true"} if htmx else {})
    return client.post(URL + path, data=form, headers=headers, follow_redirects=False)


def test_the_page_offers_every_input(client: TestClient, token: str) -> None:
    form = _form(client)
    assert form["target.cost_of_capital.beta"] == "1.5"
    assert form["target.operating.ebit_margin.2"] == "0.3"
    assert form["deal_terms.exchange_ratio"] == "0.1235"
    assert "parent_id" in form and form["csrf_token"] == token


def _shown(html: str) -> dict[str, str]:
    return dict(re.findall(r'name="(shown\.[a-z_]+)" value="([0-9a-f]+)"', html))


def _swapped(html: str) -> set[str]:
    return set(re.findall(r'id="part-([a-z-]+)" hx-swap-oob="true"', html)) | (
        {"label"} if 'id="valuation-label" hx-swap-oob="true"' in html else set()
    )


def test_preview_recomputes_without_saving(client: TestClient, token: str, seeded: Session) -> None:
    untouched = _post(client, "/preview", _form(client), token)
    after = _post(client, "/preview", _form(client, **{"deal_terms.exchange_ratio": "0.15"}), token)
    assert untouched.status_code == after.status_code == 200
    # Nothing edited: the figures shown are the saved ones, so no section is sent again.
    assert _swapped(untouched.text) == set() and "no unsaved edits" in untouched.text
    for part in ("kpis", "terms", "standalone", "sensitivities", "monte-carlo", "football-field"):
        assert f'id="part-{part}" hx-swap-oob="true"' in after.text
    assert 'id="valuation"' not in after.text  # the parts swap, not the whole section
    assert "$24.78" in after.text  # 0.15 x $165.20
    assert "Unsaved edits of v1" in after.text and 'data-unsaved="true"' in after.text
    assert seeded.scalar(select(func.count()).select_from(AssumptionSet)) == 1


def test_only_the_sections_an_edit_changes_are_swapped(client: TestClient, token: str) -> None:
    """The form posts a digest of each section it shows; the answer swaps only what differs."""
    first = _post(
        client, "/preview", _form(client, **{"acquirer.cost_of_capital.beta": "1.5"}), token
    )
    shown = _shown(first.text)
    assert len(shown) == 10
    second = _post(
        client, "/preview", _form(client, **{"acquirer.cost_of_capital.beta": "1.6"}) | shown, token
    )
    # The acquirer's WACC moves only the acquirer's DCF (the label, which names the figures
    # and how long they took, may swap too): the target's sensitivities, its Monte Carlo,
    # the terms and the pro forma stay as shown.
    assert _swapped(second.text) - {"label"} == {"standalone"}
    undone = _post(client, "/preview", _form(client) | _shown(second.text), token)
    assert "no unsaved edits" in undone.text and 'data-unsaved="false"' in undone.text
    assert {"standalone", "monte-carlo", "football-field"} <= _swapped(undone.text)  # saved run


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("target.operating.tax_rate", "21", "looks like a percent"),
        ("target.operating.ebit_margin.1", "abc", "enter a number"),
        ("deal_terms.acquirer_reference_price", "-5", "greater than 0"),
        ("target.terminal.growth", "0.2", "WACC"),
    ],
)
def test_bad_input_shows_beside_the_field_and_marks_figures_stale(
    client: TestClient, token: str, name: str, value: str, message: str
) -> None:
    response = _post(client, "/preview", _form(client, **{name: value}), token)
    assert response.status_code == 422
    error_id = "err-" + name.replace(".", "-")
    span = re.search(
        rf'<span[^>]* id="{error_id}" class="field-error on"[^>]*>([^<]*)<', response.text
    )
    assert span and message in span.group(1), response.text[:2000]
    assert 'class="stale-banner on"' in response.text
    assert 'id="part-kpis"' not in response.text  # the last good figures stay


def test_save_makes_version_2_and_values_it(client: TestClient, token: str) -> None:
    form = _form(client, **{"target.cost_of_capital.beta": "1.7", "note": "higher beta"})
    response = _post(client, "/versions", form, token)
    assert response.status_code == 200
    assert response.headers["HX-Refresh"] == "true"
    page = client.get(URL).text
    assert "Current version <strong>v2</strong>" in page and "higher beta" in page
    assert 'name="target.cost_of_capital.beta" value="1.7"' in page


def test_a_stale_editor_cannot_overwrite_a_newer_version(client: TestClient, token: str) -> None:
    stale = _form(client, **{"note": "first"})
    assert _post(client, "/versions", stale, token).status_code == 200
    again = _post(client, "/versions", stale | {"note": "second"}, token)
    assert again.status_code == 409
    # Both versions are named and their difference is one click away.
    assert "You started from v1, and v2 has been saved since" in again.text
    assert f'href="{URL}/versions/compare?a=1&amp;b=2"' in again.text


def test_plain_form_post_saves_and_redirects(client: TestClient, token: str) -> None:
    form = _form(client, note="no javascript")
    response = _post(client, "/versions", form, token, htmx=False)
    assert response.status_code == 303 and response.headers["location"].startswith(URL)


def test_posts_without_the_token_are_refused(client: TestClient, token: str) -> None:
    form = _form(client)
    form.pop("csrf_token")
    response = client.post(URL + "/versions", data=form)
    assert response.status_code == 403
    forged = client.post(URL + "/preview", data=form, headers={"X-CSRF-Token": "forged"})
    assert forged.status_code == 403


def test_wacc_override_recomputes_and_nine_is_refused(client: TestClient, token: str) -> None:
    name = "target.cost_of_capital.wacc"
    assert _form(client)[name] == ""  # blank: the CAPM build-up is used
    override = _post(client, "/preview", _form(client, **{name: "0.09"}), token)
    assert override.status_code == 200
    assert '9.00% <span class="sub">override; CAPM gives 12.47%</span>' in override.text
    nine = _post(client, "/preview", _form(client, **{name: "9"}), token)
    assert nine.status_code == 422
    assert re.search(
        r'id="err-target-cost_of_capital-wacc" class="field-error on"[^>]*>9 looks like a percent',
        nine.text,
    )


def test_saving_untouched_fields_changes_no_number(
    client: TestClient, token: str, seeded: Session
) -> None:
    assert _post(client, "/versions", _form(client, note="no edits"), token).status_code == 200
    v1, v2 = seeded.scalars(select(AssumptionSet).order_by(AssumptionSet.version)).all()
    assert v2.payload == v1.payload and v2.content_hash == v1.content_hash


def test_try_a_collar_the_deal_did_not_have(client: TestClient, token: str) -> None:
    form = _form(client)
    assert form["deal_terms.collar.lower"] == form["deal_terms.collar.upper"] == ""
    collar = {"deal_terms.collar.lower": "180", "deal_terms.collar.upper": "200"}
    preview = _post(client, "/preview", form | collar, token)
    assert preview.status_code == 200
    assert "$22.23" in preview.text  # 0.1235 x 180: the floor protects the target
    assert "Collar $180.00–$200.00" in preview.text
    one = _post(client, "/preview", form | {"deal_terms.collar.lower": "180"}, token)
    assert one.status_code == 422 and "give both bounds, or neither" in one.text
    upside_down = _post(
        client,
        "/preview",
        form | {"deal_terms.collar.lower": "200", "deal_terms.collar.upper": "180"},
        token,
    )
    assert upside_down.status_code == 422
    assert re.search(
        r'id="err-deal_terms-collar-lower" class="field-error on"[^>]*>lower must', upside_down.text
    )


def test_monte_carlo_draws_are_editable(client: TestClient, token: str) -> None:
    form = _form(client)
    name = "scenarios.monte_carlo.distributions.wacc.high"
    assert form[name] == "0.02"
    wider = _post(client, "/preview", form | {name: "0.05"}, token)
    assert wider.status_code == 200
    bad = _post(
        client,
        "/preview",
        form | {"scenarios.monte_carlo.distributions.ebit_margin.sd": "-1"},
        token,
    )
    assert bad.status_code == 422
    assert (
        'id="err-scenarios-monte_carlo-distributions-ebit_margin-sd" class="field-error on"'
        in bad.text
    )


def test_a_second_view_reads_no_payload(client: TestClient, token: str, engine: Engine) -> None:
    """Once a version's editor is built, the page never loads the version's payload again
    (a large JSON column, decoded on every read): its statements leave that column out."""
    statements: list[str] = []

    def seen(conn, cursor, statement, params, context, executemany) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert client.get(URL).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert any("JOIN assumption_sets" in s for s in statements)
    assert not [s for s in statements if "assumption_sets.payload" in s]


def test_the_page_shows_the_newest_run_by_this_engine(
    client: TestClient, seeded: Session, engine: Engine
) -> None:
    """The deal, its current version and that version's newest run by this engine come from
    one statement; a newer run by another engine version is not this engine's figures."""
    version = seeded.scalars(select(AssumptionSet)).one()
    assert client.get(URL).status_code == 200  # values v1 and stores its run
    newest = run_valuation(seeded, version, seed=4242)
    older_engine = ValuationRun(
        assumption_set_id=version.id,
        engine_version="0.0.1",
        seed=777,
        results=newest.results,
        duration_s=0.5,
    )
    seeded.add(older_engine)
    seeded.commit()
    assert older_engine.id > newest.id
    assert client.get(URL).status_code == 200  # renders the new run's sections and keeps them
    statements: list[str] = []

    def seen(conn, cursor, statement, params, context, executemany) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        page = client.get(URL)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert page.status_code == 200
    assert f"v1 · engine {ENGINE_VERSION} · seed 4242 ·" in page.text
    assert "seed 777" not in page.text
    (lookup,) = [s for s in statements if "valuation_runs" in s or "assumption_sets" in s]
    assert "FROM deals" in lookup and "JOIN valuation_runs" in lookup
