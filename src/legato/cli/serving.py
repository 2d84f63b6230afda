"""How ``legato dev``, ``server`` and ``worker`` (also ``worker --server``, a remote worker)
run until told to stop, and how they stop.

SIGTERM or Ctrl-C (SIGINT) stops gracefully: claim nothing more, give running steps the grace
period to finish and record their outcomes, give back every lease, exit 0
(``legato.engine.engine``). A second signal exits at once with code 130: running steps are
dropped and their leases run out. The process says in its log what it does.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from legato.api.settings import ApiSettings
from legato.client import App
from legato.client.remote_worker import RemoteWorker
from legato.engine import tracing

if TYPE_CHECKING:
    from legato.api.serve import ApiServer

log = logging.getLogger("legato.cli")
EXIT_AT_ONCE = 130  # the shell's code for "ended by SIGINT"


async def serve_until_stopped(
    app: App,
    *,
    orchestrate: bool,
    work: bool,
    queues: list[str] | None = None,
    on_ready: Callable[[str | None], Coroutine[Any, Any, None]] | None = None,
    http: ApiSettings | None = None,
) -> None:
    """``http``: also serve the HTTP API there, from when the engine runs until the stop
    begins; ``on_ready`` is told its address (None: no API)."""
    api: ApiServer | None = None
    export_traces()
    try:
        engine = await app.start_engine(orchestrate=orchestrate, work=work, queues=queues)
        if http is not None:
            from legato.api.serve import ApiServer, freeze_startup_heap  # a server only
            from legato.api.server import create_api  # imports FastAPI

            api = ApiServer(create_api(app, http), http)
            await api.start()
            freeze_startup_heap()
    except BaseException:
        await app.shutdown()
        raise
    try:
        if on_ready is not None:
            await on_ready(None if api is None else api.settings.address)
        await _until_signalled(app)
    finally:
        if api is not None:
            await api.stop()
        await app.shutdown()
    _exit_if_threads(engine.threads_left)


async def serve_remote_until_stopped(
    app: App, server: str, *, api_key: str | None, queues: list[str] | None
) -> None:
    """``legato worker --server``: run the app's steps for the server at ``server``, through
    its HTTP API (``legato.client.remote_worker``), until told to stop."""
    export_traces()
    worker = RemoteWorker(app, server, api_key=api_key, queues=queues)
    await worker.start()
    try:
        await _until_signalled(app)
    finally:
        await worker.stop()
    _exit_if_threads(worker.threads_left)


def export_traces() -> None:
    """OTLP export of the engine's spans when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set."""
    if tracing.configure_from_environment():
        endpoint = os.environ[tracing.OTLP_ENDPOINT]
        log.info("exporting traces to %s (OTLP/HTTP)", endpoint,
                 extra={"event": "traces.exporting", "endpoint": endpoint})  # fmt: skip


async def _until_signalled(app: App) -> None:
    """Returns at the first SIGTERM or SIGINT; a second one exits at once."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal(sig: signal.Signals) -> None:
        if stop.is_set():
            log.warning(
                "%s again: exiting at once (exit code %d) without waiting for running steps; "
                "their leases will run out",
                sig.name,
                EXIT_AT_ONCE,
            )
            _exit_now(EXIT_AT_ONCE)
        log.info(
            "%s: stopping gracefully (grace period %gs); a second signal exits at once",
            sig.name,
            app.grace_seconds,
            extra={"event": "stopping", "signal": sig.name},
        )
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)
    await stop.wait()


def _exit_if_threads(threads_left: int) -> None:
    if threads_left:  # the interpreter would wait for them at exit: do not
        log.info(
            "exiting without waiting for %d sync step %s still running",
            threads_left,
            "thread" if threads_left == 1 else "threads",
        )
        _exit_now(0)


def _exit_now(code: int) -> None:
    """Exit without running the interpreter's exit handlers (they wait for step threads)."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
