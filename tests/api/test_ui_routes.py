"""The web UI's routes (``legato.api.ui``): every UI path answers the one HTML page, its assets
come from the package with their media types, nothing outside ``legato/ui/static`` is served,
every module the page imports exists, the routes stay out of the OpenAPI schema, and the page
(no data) loads when the server requires API keys while ``/v1`` still asks for one."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

import legato
from legato.api.server import create_api
from legato.api.settings import ApiSettings
from legato.api.ui import STATIC, is_ui_path

PAGES = ["/", "/executions", "/executions/order-1", "/executions/a%2Fb", "/definitions",
         "/definitions/checkout", "/schedules", "/dead-letters", "/queues", "/cluster"]  # fmt: skip
IMPORT = re.compile(r"""(?:from|import)\s*\(?\s*["'](\.{1,2}/[^"']+)["']""")
ROUTE_MODULE = re.compile(r"""["'](\./pages/[a-z_]+\.js)["']""")


@pytest.fixture
async def http(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = legato.App(f"sqlite:///{tmp_path / 'ui.db'}")
    try:
        api = create_api(app, ApiSettings(require_keys=True))
        transport = httpx.ASGITransport(app=api)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client
    finally:
        await app.shutdown()


@pytest.mark.parametrize("path", PAGES)
async def test_every_ui_path_is_the_page_without_a_key(http: httpx.AsyncClient, path: str) -> None:
    page = await http.get(path)
    assert page.status_code == 200, page.text
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert '<script type="module" src="/ui/app.js">' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]


async def test_the_api_still_needs_a_key(http: httpx.AsyncClient) -> None:
    assert (await http.get("/v1/executions")).status_code == 401
    assert (await http.get("/v1/executions/x/history")).status_code == 401


def _imports(text: str) -> set[str]:
    return set(IMPORT.findall(text)) | set(ROUTE_MODULE.findall(text))


async def test_every_module_the_page_loads_is_served(http: httpx.AsyncClient) -> None:
    seen: set[str] = set()
    todo = ["/ui/app.js", "/ui/app.css", "/ui/logo.svg"]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        got = await http.get(path)
        assert got.status_code == 200, path
        if path.endswith(".js"):
            assert got.headers["content-type"] == "text/javascript; charset=utf-8"
            base = path.rsplit("/", 1)[0]
            for found in _imports(got.text):
                parts = [*base.split("/"), *found.split("/")]
                resolved: list[str] = []
                for part in parts:
                    if part == "..":
                        resolved.pop()
                    elif part != ".":
                        resolved.append(part)
                todo.append("/".join(resolved))
    shipped = {f"/ui/{p.relative_to(STATIC)}" for p in STATIC.rglob("*") if p.is_file()}
    assert seen == shipped - {"/ui/index.html"}, (
        "every shipped file is used, every used one shipped"
    )


@pytest.mark.parametrize(
    "path", ["/ui/../api/ui.py", "/ui/%2e%2e/api/ui.py", "/ui/..%2fapi%2fui.py", "/ui/nope.js"]
)
async def test_nothing_outside_the_assets_is_served(http: httpx.AsyncClient, path: str) -> None:
    got = await http.get(path)
    assert got.status_code in (401, 404), got.text
    assert "import" not in got.text


async def test_the_ui_is_not_in_the_api_schema(tmp_path: Path) -> None:
    app = legato.App(f"sqlite:///{tmp_path / 'ui.db'}")
    try:
        schema = create_api(app).openapi()
    finally:
        await app.shutdown()
    assert schema["paths"], "the API is there"
    assert all(p.startswith(("/v1/", "/healthz", "/readyz", "/metrics")) for p in schema["paths"])


@pytest.mark.parametrize(
    ("path", "ui"),
    [("/", True), ("/executions/x", True), ("/ui/app.js", True), ("/executions/x/2", True),
     ("/definitions/x/y", False),
     ("/v1/executions", False), ("/openapi.json", False), ("/docs", False)],
)  # fmt: skip
def test_which_paths_are_the_ui(path: str, ui: bool) -> None:
    assert is_ui_path(path) is ui
