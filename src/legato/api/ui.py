"""The web UI: one HTML page for every UI path (the browser routes by itself, so a link to an
execution can be shared), and its assets under ``/ui/``, shipped in the package
(``legato/ui/static``): plain HTML, CSS and JavaScript modules, no build step, nothing fetched
from elsewhere. The page reads everything through the ``/v1`` API.

None of these routes are in the OpenAPI schema. When the server requires API keys, these
routes are still open (they hold no data): the page asks for a key when the API answers 401.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from legato.api.problems import Problem

STATIC = Path(__file__).resolve().parent.parent / "ui" / "static"
#: the paths the browser routes (``{name}``: one path segment, ``{name:path}``: the rest)
PAGES = (
    "/",
    "/executions",
    "/executions/{execution_id:path}",  # a child's id has a slash: parent/3
    "/definitions",
    "/definitions/{name}",
    "/schedules",
    "/dead-letters",
    "/queues",
    "/cluster",
)
ASSET_PREFIX = "/ui/"
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
#: the page loads only its own assets; the graph SVG the API draws may carry its own <style>
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-cache",  # revalidated (ETag): a new version shows at once
}

router = APIRouter(include_in_schema=False)


def _pattern(page: str) -> str:
    """A page's path as a regular expression (a trailing slash allowed)."""
    one = re.sub(r"\{[a-z_]+\}", "[^/]+", re.sub(r"\{[a-z_]+:path\}", ".+", page))
    return one.rstrip("/") + "/?"


_UI_PATH = re.compile("|".join([re.escape(ASSET_PREFIX) + ".*", *map(_pattern, PAGES)]))


def is_ui_path(path: str) -> bool:
    """Whether ``path`` is the page or one of its assets (open when keys are required)."""
    return _UI_PATH.fullmatch(path) is not None


def _file(path: Path) -> Response:
    return FileResponse(
        path, media_type=MEDIA_TYPES.get(path.suffix, "application/octet-stream"),
        headers=SECURITY_HEADERS,
    )  # fmt: skip


async def _page() -> Response:
    return _file(STATIC / "index.html")


for _path in PAGES:
    router.add_api_route(_path, _page, methods=["GET"], response_class=Response)


@router.get(ASSET_PREFIX + "{asset:path}", response_class=Response)
async def asset(asset: str) -> Response:
    """A file under ``legato/ui/static`` (never outside it)."""
    found = (STATIC / asset).resolve()
    if not found.is_relative_to(STATIC) or not found.is_file():
        raise Problem(404, "not-found", f"no UI asset {asset!r}")
    return _file(found)
