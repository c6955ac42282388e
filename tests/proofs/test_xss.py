"""An XSS corpus stored in every text a user controls renders inert everywhere it is shown.

The corpus (script tags, attribute breakers, htmx attribute injection, `javascript:` URLs,
template syntax) goes into the seeded deal's name, summary, terms and company names, its
facts' labels and notes and its sources' titles, the admin's display name (the author of a
version and the actor in the audit log), an uploaded assumption file's company name and
provenance notes, and that version's note. Then every page, HTMX fragment and the PDF that
shows them is parsed and held to what "inert" means under our CSP and htmx's hx-csp
extension: no script but our nonce-carrying ones, no element with an event handler, no
htmx attribute on an element without this response's nonce (hx-csp ignores those), no
`javascript:` link, no framing or style element, none of the corpus's markup as markup;
and the stored text shows, literally, as text ({{7*7}} included).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.deals.models import Deal
from app.reports.pdf import render_html
from app.reports.service import report_source
from tests.conftest import csrf_of

SLUG = "coreweave-core-scientific"
URL = f"/deals/{SLUG}"
CORPUS = (
    "<script>alert('xss')</script>",
    '" onmouseover="alert(1)" x="',
    "' onfocus='alert(2)' autofocus x='",
    "'><img src=x onerror=alert(3)>",
    '<div hx-get="/logout" hx-trigger="load">hx</div>',
    '<b hx-on:click="alert(4)" hx-on::load="alert(5)">on</b>',
    "javascript:alert(6)",
    "{{7*7}}",
    "{% print 7*7 %}",
    "</script><script>alert(7)</script>",
    "<svg/onload=alert(8)>",
    '</textarea><iframe src="javascript:alert(9)"></iframe>',
    "<style>*{display:none}</style>",
    "&lt;i&gt;already escaped&lt;/i&gt; &amp;",
)
"""One entry a line; each is also the whole value of a provenance note."""
MARKUP = tuple(entry for entry in CORPUS if re.search("[<>\"']", entry))
"""Entries that would be live if they reached a page unescaped."""


def fit(limit: int, start: int = 0) -> str:
    """As many corpus entries as fit in `limit` characters (a field's maximum), from `start`."""
    taken: list[str] = []
    for entry in CORPUS[start:] + CORPUS[:start]:
        if len(" ".join([*taken, entry])) > limit:
            break
        taken.append(entry)
    return " ".join(taken)


EVERYTHING = " ".join(CORPUS)


class Document(HTMLParser):
    """The elements (tag, attributes) and the text of an HTML document or fragment."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.chunks: list[str] = []
        self.feed(html)
        self.close()
        self.text = "".join(self.chunks)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {name: value or "" for name, value in attrs}))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)

    def shows(self, value: str) -> bool:
        """The value is on the page as text, or as a whole attribute's value (a form field)."""
        squeeze = " ".join(value.split())
        return squeeze in " ".join(self.text.split()) or any(
            value == attr or squeeze in " ".join(attr.split())
            for _, attrs in self.elements
            for attr in attrs.values()
        )


URL_ATTRIBUTES = ("href", "src", "action", "formaction", "xlink:href", "data", "poster")
FORBIDDEN_TAGS = {"iframe", "frame", "object", "embed", "style", "base", "applet", "meta"}


def nonce_of(response) -> str:
    match = re.search(r"'nonce-([^']+)'", response.headers["content-security-policy"])
    assert match, "every response carries a CSP nonce"
    return match.group(1)


def assert_inert(html: str, nonce: str | None, where: str) -> Document:
    """The checks of the module docstring; `nonce` None: no script or htmx at all (the PDF)."""
    doc = Document(html)
    for tag, attrs in doc.elements:
        element = f"{where}: <{tag} {attrs}>"
        assert not [n for n in attrs if n.startswith("on")], f"event handler on {element}"
        htmx = [n for n in attrs if n.startswith(("hx-", "data-hx-"))]
        if htmx:
            assert nonce is not None and attrs.get("hx-nonce") == nonce, f"foreign htmx: {element}"
        for name in URL_ATTRIBUTES:
            target = re.sub(r"[\s\x00-\x1f]", "", attrs.get(name, "")).lower()
            assert not target.startswith(("javascript:", "vbscript:", "data:text")), element
        if tag == "script":
            assert nonce is not None and attrs.get("nonce") == nonce, f"foreign script: {element}"
            assert attrs.get("src", "").startswith("/static/"), f"inline script: {element}"
        if tag == "meta" and where != "pdf html":
            assert set(attrs) <= {"charset", "name", "content"}, element
        elif tag in FORBIDDEN_TAGS - {"meta"}:
            raise AssertionError(f"injected element: {element}")
        if tag == "img":
            assert attrs.get("src", "").startswith(("/static/", "data:image/")), element
    for entry in MARKUP:
        assert entry not in html, f"{where}: {entry!r} is on the page as markup"
    return doc


def assert_shows(doc: Document, values: Iterable[str], where: str) -> None:
    for value in values:
        assert doc.shows(value), f"{where} should show {value!r} as text"


@dataclass(frozen=True)
class Hostile:
    """What was stored where, and the responses of the writes that had to be HTMX."""

    deal_name: str
    summary: str
    consideration: str
    acquirer: str
    target: str
    fact_label: str
    fact_note: str
    source_title: str
    author: str
    version_note: str
    payload_company: str
    notes: tuple[str, ...]
    upload_preview: object
    csrf: str


@pytest.fixture
def hostile(client: TestClient, seeded: Session) -> Hostile:
    """The seeded deal with the corpus in every field, and a second version uploaded with it."""
    deal = seeded.scalars(select(Deal).where(Deal.slug == SLUG)).one()
    values = {
        "deal_name": fit(200),
        "summary": EVERYTHING,
        "consideration": fit(300, 3),
        "acquirer": fit(200, 1),
        "target": fit(200, 5),
        "fact_label": fit(200, 4),
        "fact_note": EVERYTHING,
        "source_title": fit(300, 2),
        "author": fit(120, 6),
    }
    deal.name, deal.summary = values["deal_name"], values["summary"]
    deal.consideration = values["consideration"]
    deal.acquirer.name, deal.target.name = values["acquirer"], values["target"]
    for fact in deal.facts:
        fact.label, fact.note = values["fact_label"], values["fact_note"]
    for source in deal.sources:
        source.title = values["source_title"]
    root = seeded.scalars(select(User).where(User.username == "root")).one()
    root.display_name = values["author"]
    seeded.commit()

    csrf = csrf_of(client)
    payload = json.loads(client.get(f"{URL}/assumptions.json").text)
    company = fit(200, 7)
    payload["acquirer"]["name"] = company
    keys = list(payload["provenance"])
    notes = tuple(CORPUS[i % len(CORPUS)] for i in range(len(keys)))
    for key, note in zip(keys, notes, strict=True):
        payload["provenance"][key]["note"] = note
    preview = client.post(
        f"{URL}/upload",
        files={"file": ("hostile.json", json.dumps(payload).encode(), "application/json")},
        headers={"X-CSRF-Token": csrf, "HX-Request": "true"},
    )
    assert preview.status_code == 200, preview.text
    token = re.search(r'name="token" value="([^"]+)"', preview.text)
    assert token, preview.text
    note = fit(2000, 9)
    saved = client.post(
        f"{URL}/upload/confirm",
        data={"token": token.group(1), "note": note, "csrf_token": csrf},
        headers={"X-CSRF-Token": csrf, "HX-Request": "true"},
    )
    assert saved.status_code == 200 and saved.headers.get("HX-Redirect") == URL, saved.text
    return Hostile(
        **values,
        version_note=note,
        payload_company=company,
        notes=notes,
        upload_preview=preview,
        csrf=csrf,
    )


def _page(
    client: TestClient, url: str, headers: dict[str, str] | None = None, **params: str
) -> tuple[Document, str]:
    response = client.get(url, headers=headers, params=params or None)
    assert response.status_code == 200, f"{url}: {response.status_code}"
    return assert_inert(response.text, nonce_of(response), url), response.text


def test_corpus_is_inert_on_every_page(client: TestClient, hostile: Hostile) -> None:
    h = hostile
    deal_fields = (h.deal_name, h.summary, h.consideration, h.acquirer, h.target)
    pages = {
        "/": (h.deal_name, h.acquirer, h.target, h.consideration, h.author),
        f"{URL}?wait=true": (
            *deal_fields,
            h.fact_label,
            h.fact_note,
            h.source_title,
            h.author,
            h.version_note,
            h.payload_company,
        ),
        f"{URL}/versions": (h.deal_name, h.author, h.version_note),
        f"{URL}/versions/compare?a=1&b=2": (h.deal_name, h.payload_company),
        f"{URL}/edit": (*deal_fields, h.fact_label, h.fact_note, h.source_title),
        f"{URL}/team": (h.deal_name, h.author),
        "/admin/audit": (h.author, h.version_note[:100]),
        "/admin/users": (h.author,),
        "/account": (h.author,),
    }
    for url, shown in pages.items():
        doc, _ = _page(client, url)
        assert_shows(doc, shown, url)


def test_corpus_is_inert_in_htmx_fragments(client: TestClient, hostile: Hostile) -> None:
    h = hostile
    preview = h.upload_preview
    doc = assert_inert(preview.text, nonce_of(preview), "upload preview")
    assert_shows(doc, (h.payload_company,), "upload preview")

    htmx = {"HX-Request": "true"}
    doc, _ = _page(client, "/", htmx, q=h.deal_name[:60])
    assert_shows(doc, (h.deal_name, h.acquirer, h.target), "deal list results")
    for entry in CORPUS:  # a search echoes the query back
        doc, _ = _page(client, "/", htmx, q=entry)
        assert_shows(doc, (entry,), "deal list results")

    doc, _ = _page(client, f"{URL}/valuation", htmx)
    assert_shows(doc, (h.payload_company,), "valuation fragment")

    page = client.get(URL).text
    form = dict(re.findall(r'<input[^>]*? name="([^"]+)" value="([^"]*)"', page))
    for entry in CORPUS:  # a bad value is echoed beside its field
        edited = form | {"deal_terms.exchange_ratio": entry}
        answer = client.post(
            f"{URL}/preview", data=edited, headers={"X-CSRF-Token": h.csrf, "HX-Request": "true"}
        )
        assert answer.status_code == 422, answer.text
        assert_inert(answer.text, nonce_of(answer), f"editor preview with {entry!r}")
    answer = client.post(
        f"{URL}/preview", data=form, headers={"X-CSRF-Token": h.csrf, "HX-Request": "true"}
    )
    assert answer.status_code == 200
    assert_inert(answer.text, nonce_of(answer), "editor preview")


def test_javascript_urls_are_refused(client: TestClient, seeded: Session) -> None:
    """A source's address must be http(s): `javascript:` never reaches a page as a link."""
    body = {
        "name": "Acme – Widget",
        "acquirer": {"name": "Acme"},
        "target": {"name": "Widget"},
        "announced": "2025-01-02",
        "consideration": "cash",
        "sources": [{"key": "S1", "title": "x", "url": "javascript:alert(1)"}],
    }
    for url in ("javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,<script>", "x"):
        body["sources"][0]["url"] = url
        response = client.post("/api/v1/deals", json=body)
        assert response.status_code == 422, url
        assert ["body", "sources", 0, "url"] in [e["loc"] for e in response.json()["detail"]]


def test_corpus_is_escaped_in_the_pdf(
    client: TestClient, hostile: Hostile, seeded: Session
) -> None:
    """The HTML handed to WeasyPrint is escaped, and the PDF's text is the corpus, literally."""
    h = hostile
    html = render_html(report_source(seeded, SLUG, viewer=None))
    doc = assert_inert(html, None, "pdf html")
    shown = (h.deal_name, h.acquirer, h.target, h.consideration, h.author, h.version_note)
    assert_shows(doc, (*shown, h.source_title, *set(h.notes)), "pdf html")
    if shutil.which("pdftotext") is None:
        pytest.skip("Poppler's pdftotext is missing: apt-get install -y poppler-utils")
    response = client.get(f"{URL}/report.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    text = subprocess.run(
        ["pdftotext", "-raw", "-", "-"], input=response.content, capture_output=True, check=True
    ).stdout.decode()
    flat = "".join(text.split())  # lines wrap at spaces, hyphens and slashes
    for value in (h.deal_name, h.acquirer, h.target, h.consideration, h.author, "{{7*7}}"):
        assert "".join(value.split()) in flat, f"the PDF should read {value!r}"
