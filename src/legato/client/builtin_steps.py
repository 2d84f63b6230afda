"""The steps every app has: the built-in integrations a state machine's Task calls (AWS
services, HTTP, Distributed Map item readers and result writers). They are registered in every
app's registry, so any worker of the app runs them and any process that decides a state
machine can schedule them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from legato.client.aws_steps import register_aws_step
from legato.client.http_steps import register_http_step
from legato.client.item_steps import register_item_steps
from legato.client.sfn_steps import register_sfn_step

if TYPE_CHECKING:
    from legato.client.app import App


def register_builtin_steps(app: App) -> None:
    """Add the built-in integration steps to ``app``'s registry."""
    register_aws_step(app)
    register_http_step(app)
    register_sfn_step(app)
    register_item_steps(app)
