"""How the CLI writes: a stdout console that never cuts or hard-wraps, times and durations.

On a terminal, rich fits tables to its width; one the terminal is too narrow for is printed as
wide as its narrowest whole form (ids and event names never cut) and the terminal wraps its
lines. Piped or redirected, the width is unbounded: a line is as long as what it holds, so
``legato ... > file`` or ``| grep`` sees whole ids, JSON lines and event names, whatever
``$COLUMNS`` says. Times are local with their zone named, or UTC (``--utc``, ``LEGATO_UTC``).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console, ConsoleDimensions
from rich.measure import Measurement
from rich.table import Table

UNBOUNDED = 100_000  # columns of a console that is not a terminal: nothing is wrapped or cut


class _Console(Console):
    def print(self, *objects: Any, **kwargs: Any) -> None:
        """A table the terminal is too narrow for is printed as wide as its narrowest whole
        form (each column at its longest word, ids and event names whole) and the terminal
        wraps its lines, rather than rich cutting cells to fit (``order-2026-03…``)."""
        tables = [o for o in objects if isinstance(o, Table)]
        if tables and "width" not in kwargs and self.is_terminal:
            least = max(_least_width(self, t) for t in tables)
            if least > self.width:  # print's own width= cannot exceed the console's
                kept, self._width = self._width, least
                try:
                    super().print(*objects, **kwargs)
                finally:
                    self._width = kept
                return
        super().print(*objects, **kwargs)

    @property
    def size(self) -> ConsoleDimensions:
        measured = super().size
        if self.is_terminal:
            return measured
        return ConsoleDimensions(UNBOUNDED, measured.height)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        self._width, self._height = new_size


def _least_width(console: Console, table: Table) -> int:
    """The narrowest a table is with nothing cut: each column at its longest word (a column
    that does not wrap at its widest cell), with padding and borders."""
    total = table._extra_width  # borders
    for index, column in enumerate(table.columns):
        widest = 0
        for cell in [column.header, *column.cells]:
            shown = console.render_str(cell) if isinstance(cell, str) else cell
            measured = Measurement.get(console, console.options, shown)
            widest = max(widest, measured.maximum if column.no_wrap else measured.minimum)
        # rich's collapse of wrapping columns does not stop at their longest word: a margin
        total += widest + table._get_padding_width(index) + (0 if column.no_wrap else 2)
    return total


def make_console(
    *, stderr: bool = False, soft_wrap: bool = False, highlight: bool = True
) -> Console:
    """A console for stdout (or stderr) that is unbounded when not a terminal."""
    return _Console(stderr=stderr, soft_wrap=soft_wrap, highlight=highlight)


UTC_VARIABLE = "LEGATO_UTC"
_zone: list[bool] = [bool(os.environ.get(UTC_VARIABLE))]  # set once by ``legato --utc``


def use_utc(utc: bool) -> None:
    """``legato --utc`` (or ``$LEGATO_UTC``): times in UTC rather than local time."""
    _zone[0] = utc or bool(os.environ.get(UTC_VARIABLE))


def _utc_given(given: bool) -> None:
    if given:
        use_utc(True)


#: ``--utc`` on a command that shows times (also ``legato --utc COMMAND``)
UtcOption = Annotated[
    bool,
    typer.Option(
        "--utc",
        callback=_utc_given,
        expose_value=False,
        help="times in UTC (default: local time, its zone named; or LEGATO_UTC=1)",
    ),
]


def moment(value: datetime | None, *, ms: bool = True) -> str:
    """A time as an operator reads it: local time (or UTC with ``--utc``), with its zone,
    to the millisecond (``ms``): ``2026-03-29 14:05:09.120 CEST``."""
    if value is None:
        return ""
    shown = value.astimezone(UTC) if _zone[0] else value.astimezone()
    text = shown.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] if ms else f"{shown:%Y-%m-%d %H:%M:%S}"
    return f"{text} {shown.tzname() or ''}".rstrip()


def span(ms: int) -> str:
    """A duration as an operator reads it: the two largest units (``1h 5m``, ``42s``), or
    milliseconds under a second (``230ms``)."""
    ms = max(ms, 0)
    if ms < 1000:
        return f"{ms}ms"
    seconds = ms // 1000
    parts: list[str] = []
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)):
        if seconds >= size or (unit == "s" and not parts):
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return " ".join(parts[:2])
