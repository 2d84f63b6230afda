"""What the validator asks about ``arn:aws:states:::aws-sdk:SERVICE:ACTION`` Resources.

The core reads no SDK model (it does no I/O), so the caller that has one passes it in: the
app, the CLI and the HTTP API give botocore's (``legato.adapters.aws.catalog``). Without one, an
``aws-sdk`` Resource is checked for its shape only."""

from __future__ import annotations

from typing import Protocol


class SdkCatalog(Protocol):
    """The services and actions the ``aws-sdk`` integration can call."""

    def problem(self, service: str, action: str) -> str | None:
        """Why ``aws-sdk:service:action`` cannot be called (naming the nearest valid service
        or action), or None when it can."""
        ...
