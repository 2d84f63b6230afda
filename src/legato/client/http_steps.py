"""The built-in step that makes an HTTP Task's call (``legato.http``): one request per attempt
(plus the redirects it follows), through the app's connections and address policy
(``App(http_connections=..., http_allow=...)``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from legato.core.asl.integration_steps import HTTP_STEP

if TYPE_CHECKING:
    from legato.client.app import App


def register_http_step(app: App) -> None:
    async def http_call(params: dict[str, Any]) -> Any:
        # read at call time: tests and apps may replace app.http_tasks after construction
        return await app.http_tasks.invoke(params)

    app.registry.add_step(http_call, HTTP_STEP, None, None, None, None)
