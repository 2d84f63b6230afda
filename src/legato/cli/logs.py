"""How a ``legato`` command logs: configured once per process, here.

The engine writes stdlib ``logging`` records with their fields as ``extra``
(``legato.engine.log_events``); structlog's ``ProcessorFormatter`` renders every record,
Legato's and any library's, one way: JSON lines (``--log-format json``: one object per line
with ``timestamp``, ``level``, ``logger``, ``event`` and the record's fields, for a log
collector), or for a person at a terminal (``console``: the message first, then the fields,
coloured when stderr is a terminal). The default is ``console``; ``LEGATO_LOG_FORMAT`` sets
it for a deployment.

Levels: a long-running command (``dev``, ``server``, ``worker``) logs at INFO, so what
happens to each execution is seen without asking (``-v``: DEBUG, each step too); other
commands log warnings (``-v``: INFO, ``-vv``: DEBUG). ``LEGATO_LOG_LEVEL`` (``WARNING``...)
overrides both, e.g. for a server that runs thousands of executions a second and keeps only
its lifecycle (start, stop, partitions), which is always logged.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Annotated, Any

import structlog
import typer
from structlog.typing import EventDict, Processor, WrappedLogger

FORMATS = ("console", "json")
FORMAT_VARIABLE = "LEGATO_LOG_FORMAT"
LEVEL_VARIABLE = "LEGATO_LOG_LEVEL"
#: loggers whose INFO lines (starting, stopping, partitions, what was released) a
#: long-running command always writes, whatever the level
LIFECYCLE_LOGGERS = (
    "legato.cli",
    "legato.engine",
    "legato.worker",
    "legato.api",
    "legato.events",
    "legato.orchestrator",
)

VerboseOption = Annotated[
    int,
    typer.Option(
        "--verbose", "-v", count=True, help="log more: -v (DEBUG for dev/server/worker), -vv"
    ),
]
LogFormatOption = Annotated[
    str | None,
    typer.Option(
        "--log-format",
        help=f"'console' (readable, coloured in a terminal) or 'json' (one JSON object per "
        f"line); default: ${FORMAT_VARIABLE}, else console",
    ),
]


def level_for(verbose: int, serving: bool) -> int:
    """The level of the ``legato`` loggers (see the module docstring)."""
    named = os.environ.get(LEVEL_VARIABLE, "").strip().upper()
    if named:
        level = logging.getLevelName(named)
        if not isinstance(level, int):
            raise typer.BadParameter(f"{LEVEL_VARIABLE}={named!r} is not a log level")
        return level
    steps = [logging.INFO, logging.DEBUG] if serving else [logging.WARNING, logging.INFO]
    steps.append(logging.DEBUG)
    return steps[min(verbose, len(steps) - 1)]


def format_for(given: str | None) -> str:
    fmt = (given or os.environ.get(FORMAT_VARIABLE) or "console").strip().lower()
    if fmt not in FORMATS:
        raise typer.BadParameter(f"log format {fmt!r}: use one of {', '.join(FORMATS)}")
    return fmt


def _message_aside(_: WrappedLogger, __: str, ed: EventDict) -> EventDict:
    """A stdlib record's message becomes ``message``: its ``event`` extra, when it has one,
    is the line's event name (``ExtraAdder`` adds it next)."""
    ed["message"] = ed.pop("event")
    return ed


def _named(_: WrappedLogger, __: str, ed: EventDict) -> EventDict:
    """A line with no event name (a library's, or a plain engine line) is named by its
    message, as structlog's own lines are."""
    if "event" not in ed:
        ed["event"] = ed.pop("message")
    return ed


def _headline(_: WrappedLogger, __: str, ed: EventDict) -> EventDict:
    """For a person: the message first, the name among the fields; empty fields left out."""
    if "message" in ed:
        ed["event"], ed["name"] = ed.pop("message"), ed["event"]
    for key in [k for k, v in ed.items() if v is None]:
        del ed[key]
    return ed


def handler(fmt: str, stream: Any = None) -> logging.Handler:
    """A handler rendering every record as ``fmt`` says, on ``stream`` (stderr)."""
    stream = stream if stream is not None else sys.stderr
    pre: list[Processor] = [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=fmt == "json"),
        _message_aside,
        structlog.stdlib.ExtraAdder(),
        _named,
    ]
    last: list[Processor]
    if fmt == "json":
        last = [
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(default=str),
        ]
    else:
        colors = bool(getattr(stream, "isatty", lambda: False)())
        last = [
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _headline,
            structlog.dev.ConsoleRenderer(colors=colors),
        ]
    out = logging.StreamHandler(stream)
    out.setFormatter(structlog.stdlib.ProcessorFormatter(processors=last, foreign_pre_chain=pre))
    return out


def configure(verbose: int, fmt: str | None, *, serving: bool, stream: Any = None) -> None:
    """Once per process, before anything logs: every record goes through ``handler``; the
    ``legato`` loggers at ``level_for``; other libraries' at WARNING."""
    level = level_for(verbose, serving)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler(format_for(fmt), stream))
    root.setLevel(logging.WARNING)
    logging.getLogger("legato").setLevel(level)
    if serving:
        for name in LIFECYCLE_LOGGERS:
            logging.getLogger(name).setLevel(min(level, logging.INFO))
