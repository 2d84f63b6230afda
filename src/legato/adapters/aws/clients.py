"""One aiobotocore session per app, and one client per service and event loop, opened on first
use and kept (a client holds a connection pool; opening one per call would cost a TLS
handshake each time).

Credentials and region come from the standard chain (environment, shared files, instance
metadata). The endpoint of a service is, first match wins: ``AwsSettings.endpoints[service]``,
``AwsSettings.endpoint_url``, then botocore's own ``AWS_ENDPOINT_URL_<SERVICE>`` and
``AWS_ENDPOINT_URL`` environment variables, then AWS's."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # aiobotocore is imported on first use: `import legato` stays light
    from aiobotocore.session import AioSession


@dataclass(frozen=True)
class AwsSettings:
    """Where the AWS integrations send their calls. ``endpoint_url`` for every service (a local
    emulator), ``endpoints`` per service (botocore's service name: ``dynamodb``, ``s3``...),
    ``region`` when the standard chain names none (default: the app's ``aws_region``),
    ``max_attempts`` the SDK's attempts per call."""

    endpoint_url: str | None = None
    endpoints: Mapping[str, str] = field(default_factory=dict)
    region: str | None = None
    max_attempts: int | None = None
    """the SDK's own attempts per call (its ``standard`` retry mode: throttling, transient
    errors, connections), inside one attempt of the state; default: botocore's configuration
    (``AWS_MAX_ATTEMPTS``, ``AWS_RETRY_MODE``, the shared config file). The state's Retry is
    what retries a failed call durably."""


class AwsClients:
    """The clients of one app's integrations."""

    def __init__(self, settings: AwsSettings | None = None, default_region: str = "us-east-1"):
        self.settings = settings or AwsSettings()
        self.default_region = default_region
        self._session: AioSession | None = None
        self._open: dict[tuple[int, str], tuple[Any, contextlib.AsyncExitStack]] = {}

    def session(self) -> AioSession:
        if self._session is None:
            from aiobotocore.session import get_session

            self._session = get_session()
        return self._session

    def region(self) -> str:
        return (
            self.settings.region
            or self.session().get_config_variable("region")
            or (self.default_region)
        )

    async def client(self, service: str) -> Any:
        """The open client of ``service`` on the running loop."""
        key = (id(asyncio.get_running_loop()), service)
        found = self._open.get(key)
        if found is not None:
            return found[0]
        stack = contextlib.AsyncExitStack()
        endpoint = self.settings.endpoints.get(service) or self.settings.endpoint_url
        attempts = self.settings.max_attempts
        from aiobotocore.config import AioConfig

        config = (
            None
            if attempts is None
            else AioConfig(retries={"mode": "standard", "total_max_attempts": attempts})
        )
        made = self.session().create_client(
            service, region_name=self.region(), endpoint_url=endpoint, config=config
        )
        client = await stack.enter_async_context(made)
        self._open[key] = (client, stack)
        return client

    def open_count(self) -> int:
        """How many clients are open, on any loop."""
        return len(self._open)

    async def close(self) -> None:
        """Close the clients opened on the running loop."""
        loop = id(asyncio.get_running_loop())
        for key in [k for k in self._open if k[0] == loop]:
            _, stack = self._open.pop(key)
            await stack.aclose()
