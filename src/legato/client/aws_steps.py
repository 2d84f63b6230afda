"""The built-in step that calls AWS (``legato.aws``): one SDK call per attempt, on the app's
clients (``App(aws=AwsSettings(...))``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from legato.adapters.aws.calls import call
from legato.core.asl.integration_steps import AWS_STEP

if TYPE_CHECKING:
    from legato.client.app import App


def register_aws_step(app: App) -> None:
    clients = app.aws_clients

    async def aws_call(request: dict[str, Any]) -> Any:
        return await call(
            clients,
            request["service"],
            request["operation"],
            request.get("params") or {},
            request["error_prefix"],
        )

    app.registry.add_step(aws_call, AWS_STEP, None, None, None, None)
