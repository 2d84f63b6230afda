"""The built-in step that calls AWS (``legato.aws``): one SDK call per attempt, on the app's
clients (``App(aws=AwsSettings(...))``).

Its request is either botocore's names (``service``, ``operation``, ``error_prefix``: the
optimized integrations, which name their own errors) or Step Functions' ``aws-sdk`` names
(``sdk_service``, ``action``), resolved here through botocore's models because the engine,
which schedules the step, reads no SDK model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from legato.core.asl.integration_steps import AWS_STEP
from legato.errors import NamedStepError

if TYPE_CHECKING:
    from legato.client.app import App


def register_aws_step(app: App) -> None:
    clients = app.aws_clients

    async def aws_call(request: dict[str, Any]) -> Any:
        # botocore is imported by the first call, not by every process that imports legato
        from legato.adapters.aws.calls import TASK_FAILED, call
        from legato.adapters.aws.catalog import UnknownSdkName, sdk_catalog

        params = request.get("params") or {}
        if "sdk_service" in request:
            try:
                service, operation = sdk_catalog().resolve(
                    request["sdk_service"], request["action"]
                )
            except UnknownSdkName as exc:  # a definition stored before validation knew it
                raise NamedStepError(TASK_FAILED, str(exc)) from None
            generic = f"{service.error_prefix}Exception"
            prefix = service.error_prefix
            return await call(clients, service.botocore, operation, params, prefix, generic, True)
        return await call(  # optimized: PascalCase in and out, as Step Functions documents
            clients, request["service"], request["operation"], params, request["error_prefix"],
            pascal_case=True,
        )  # fmt: skip

    app.registry.add_step(aws_call, AWS_STEP, None, None, None, None)
