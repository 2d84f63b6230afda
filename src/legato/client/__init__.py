"""Legato as users see it: ``App`` (a client, or an engine in this process) and the handles of
its executions; ``Client``, the same over the HTTP API. The composition root: the one place
that knows both the engine and the store adapters."""

from legato.client.app import App
from legato.client.handle import ExecutionStatus, Handle
from legato.client.remote import Client, RemoteHandle
from legato.client.stores import DEFAULT_URL, open_store

__all__ = [
    "DEFAULT_URL",
    "App",
    "Client",
    "ExecutionStatus",
    "Handle",
    "RemoteHandle",
    "open_store",
]
