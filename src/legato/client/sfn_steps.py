"""The built-in step ``legato.sfn``: a state machine answering one of the app's task tokens
(``aws-sdk:sfn:sendTaskSuccess``, ``sendTaskFailure``, ``sendTaskHeartbeat``;
``engine.statemachine.task_token_calls``) through the app's own ``send_task_*`` methods.

Parameters as Step Functions' API takes them: ``TaskToken``; ``Output`` for success (JSON
text, as the API requires; a JSON value that is not text is taken as it is, a Legato
leniency); ``Error`` (default ``States.TaskFailed``) and ``Cause`` for failure. Errors as the
AWS SDK integration names them, so a definition's Catch written for AWS matches.

The step answers through the app's database, so it runs on a worker that has one (an engine's
worker); a remote worker (``legato worker --server``) has none to answer through."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from legato.core import error_names
from legato.core.asl.integration_steps import SFN_STEP
from legato.errors import InvalidTaskToken, NamedStepError, TaskTokenClosed

if TYPE_CHECKING:
    from legato.client.app import App

INVALID_TOKEN = "Sfn.InvalidTokenException"
TASK_TIMED_OUT = "Sfn.TaskTimedOutException"
INVALID_OUTPUT = "Sfn.InvalidOutputException"


def register_sfn_step(app: App) -> None:
    async def sfn_call(request: dict[str, Any]) -> Any:
        action = request["action"]
        params = request.get("params") or {}
        token = params.get("TaskToken")
        if not isinstance(token, str):
            raise NamedStepError(
                error_names.TASK_FAILED, f"{action}: missing required parameter TaskToken"
            )
        try:
            if action == "sendTaskSuccess":
                await app.send_task_success(token, _output(params.get("Output")))
            elif action == "sendTaskFailure":
                error = params.get("Error")
                await app.send_task_failure(
                    token,
                    error if isinstance(error, str) else error_names.TASK_FAILED,
                    str(params.get("Cause") or ""),
                )
            else:
                await app.send_task_heartbeat(token)
        except InvalidTaskToken as exc:
            raise NamedStepError(INVALID_TOKEN, str(exc)) from None
        except TaskTokenClosed as exc:
            raise NamedStepError(TASK_TIMED_OUT, str(exc)) from None
        return {}

    app.registry.add_step(sfn_call, SFN_STEP, None, None, None, None)


def _output(output: Any) -> Any:
    """SendTaskSuccess's ``Output``: JSON text, decoded."""
    if not isinstance(output, str):
        return output
    try:
        return json.loads(output)
    except json.JSONDecodeError as exc:
        raise NamedStepError(INVALID_OUTPUT, f"Output is not valid JSON text: {exc}") from None
