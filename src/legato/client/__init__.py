"""Legato as users see it: ``App`` (a client, or an engine in this process) and the handles of
its executions. The composition root: the one place that knows both the engine and the store
adapters."""

from legato.client.app import App
from legato.client.handle import ExecutionStatus, Handle
from legato.client.stores import DEFAULT_URL, open_store

__all__ = ["DEFAULT_URL", "App", "ExecutionStatus", "Handle", "open_store"]
