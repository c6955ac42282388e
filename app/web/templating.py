"""The one Jinja environment, used by pages, HTMX fragments and the PDF."""

import hashlib
from collections.abc import Iterable
from functools import lru_cache
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from markupsafe import Markup, escape

from app.paths import STATIC_DIR, TEMPLATES_DIR
from app.web.formatting import FILTERS

templates = Jinja2Templates(directory=TEMPLATES_DIR)
# Templates change with a release, not while a process runs (`dealbook serve --reload` restarts
# on an edit). Left on, every template lookup stat()ed its file: 7% of a deal page's time.
templates.env.auto_reload = False
templates.env.filters.update(FILTERS)
templates.env.globals["app_name"] = "Dealbook"


@pass_context
def csp_nonce(context: Any) -> str:
    """This response's CSP nonce, stamped on every element with htmx attributes (the hx-csp
    extension strips htmx attributes from any element without it: injected markup is inert)."""
    request = context.get("request")
    return getattr(request.state, "csp_nonce", "") if request is not None else ""


templates.env.globals["csp_nonce"] = csp_nonce


@lru_cache(maxsize=256)
def static_url(path: str) -> str:
    """The address of a file under static/, with a digest of its content (computed once per
    process), so a release that changes the file changes its address and no browser keeps
    the old one. Starlette's url_for searched every route per call, seven times a page."""
    file = STATIC_DIR / path
    if not file.is_file():
        return f"/static/{path}"
    digest = hashlib.blake2b(file.read_bytes(), digest_size=6).hexdigest()
    return f"/static/{path}?v={digest}"


templates.env.globals["static_url"] = static_url


def is_web_link(url: object) -> bool:
    """Only http(s) addresses become links. Forms and the API accept nothing else already;
    this keeps a javascript: or data: address written to the database some other way (a
    restore, a script) from ever becoming a clickable link."""
    return isinstance(url, str) and url.lower().startswith(("https://", "http://"))


templates.env.tests["web_link"] = is_web_link


def cite_links(keys: Iterable[str]) -> Markup:
    """Source keys (S1, S2, ...) as links to the sources list: one markup for every figure
    and input that cites a source, on the page and in the PDF.

    Escaped and joined as plain strings: `Markup.format` runs Python's string.Formatter per
    link, which was a sixth of a deal page's time.

    >>> print(cite_links(["S1", "<b>"]))
    <a class="cite" href="#source-S1">S1</a><a class="cite" href="#source-&lt;b&gt;">&lt;b&gt;</a>
    """
    return Markup(
        "".join(f'<a class="cite" href="#source-{key}">{key}</a>' for key in map(escape, keys))
    )


templates.env.filters["cite_links"] = cite_links


def compile_all() -> None:
    """Compile every template now (about 0.3 s), not on the first requests that need them:
    a fresh worker under load would otherwise compile each one in several threads at once."""
    for name in templates.env.list_templates(extensions=["html"]):
        templates.env.get_template(name)


def is_htmx(request: Request) -> bool:
    """HTMX routes branch on this header only (never on HX-Trigger or the target)."""
    return request.headers.get("HX-Request") == "true"


async def form_values(request: Request) -> dict[str, str]:
    """The submitted form's fields as text. Awaiting the body is the only part of a form
    route that belongs on the event loop; as a dependency it lets the route be a plain `def`,
    which FastAPI runs in its threadpool, so a slow database never stalls the worker."""
    return {k: str(v) for k, v in (await request.form()).items()}


FormValues = Annotated[dict[str, str], Depends(form_values)]
