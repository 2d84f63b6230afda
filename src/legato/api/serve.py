"""Serving the API on uvicorn inside the engine's own event loop (one process, one loop: the
routes call the engine directly)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import socket
from collections.abc import Generator
from dataclasses import replace

import uvicorn
from fastapi import FastAPI

from legato.api.keys import warn_if_keyless
from legato.api.settings import ApiSettings
from legato.errors import ConfigurationError

log = logging.getLogger("legato.api")


def freeze_startup_heap() -> None:
    """Move what a started server holds (modules, FastAPI's routes, pydantic's schemas, the
    engine) out of the garbage collector's sight, once it runs (``gc.freeze``). A large
    answer (an execution's 1,000-event history) allocates enough to trigger the collector's
    full pass every few requests, and that pass walks every object of the process: with them
    frozen it walks only what requests made (ui_bench, history: p95 59 ms to 10 ms on
    SQLite). Garbage is collected first, so nothing dead is frozen; what is frozen and later
    freed without a cycle is freed as usual."""
    gc.collect()
    gc.freeze()


class ApiServer:
    """A running API server; ``stop`` ends it (open requests get a few seconds).
    ``settings`` names the port it listens on once started (port 0 asks for any free one)."""

    def __init__(self, api: FastAPI, settings: ApiSettings) -> None:
        self.settings = settings
        self._api = api
        config = uvicorn.Config(
            api,
            host=settings.host,
            port=settings.port,
            log_config=None,
            access_log=False,
            lifespan="off",
            http="httptools",  # parses requests in C: a third of h11's cost per request
            timeout_graceful_shutdown=5,
        )
        self._server = _Server(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        sock = _bind(self.settings)
        port = sock.getsockname()[1]
        if port != self.settings.port:
            self.settings = replace(self.settings, port=port)
            self._api.state.settings = self.settings
        self._task = asyncio.get_running_loop().create_task(self._server.serve([sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises what stopped it
                raise ConfigurationError(f"the API could not start on {self.settings.address}")
            await asyncio.sleep(0.01)
        keys = getattr(self._api.state, "keys", None)
        if keys is not None:
            await warn_if_keyless(keys, self.settings.address)
        log.info(
            "API serving on %s (docs at %s/docs)", self.settings.address, self.settings.address,
            extra={"event": "server.started", "address": self.settings.address},
        )  # fmt: skip

    async def stop(self) -> None:
        if self._task is None:
            return
        closing = getattr(self._api.state, "closing", None)
        if closing is not None:  # long polls (remote workers' claims) answer at once
            closing.set()
        self._server.should_exit = True
        try:
            await self._task
        finally:
            self._task = None
        log.info("API stopped", extra={"event": "server.stopped"})


class _Server(uvicorn.Server):
    """Uvicorn without its own signal handling: the process's handlers (``cli/serving.py``)
    decide how it stops, and stop the API first."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def _bind(settings: ApiSettings) -> socket.socket:
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    # IPPROTO_TCP named: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and
    # without it a kept-alive connection's answers wait 40 ms for delayed ACKs (Nagle)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.host, settings.port))
    except OSError as exc:
        sock.close()
        raise ConfigurationError(
            f"the API cannot listen on {settings.address}: {exc.strerror or exc} "
            "(another process there? choose another with --http HOST:PORT, or --no-http)"
        ) from None
    sock.listen(2048)
    sock.setblocking(False)
    return sock
