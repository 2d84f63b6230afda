"""Where the CLI writes: consoles that never cut or hard-wrap what a script reads.

On a terminal, rich fits tables to its width (ids are never cut: their columns do not wrap,
the others give way). Piped or redirected, the width is unbounded: a line is as long as what it
holds, so ``legato ... > file`` or ``| grep`` sees whole ids, whole JSON lines and whole event
names, whatever ``$COLUMNS`` says.
"""

from __future__ import annotations

from rich.console import Console, ConsoleDimensions

UNBOUNDED = 100_000  # columns of a console that is not a terminal: nothing is wrapped or cut


class _Console(Console):
    @property
    def size(self) -> ConsoleDimensions:
        measured = super().size
        if self.is_terminal:
            return measured
        return ConsoleDimensions(UNBOUNDED, measured.height)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        self._width, self._height = new_size


def make_console(
    *, stderr: bool = False, soft_wrap: bool = False, highlight: bool = True
) -> Console:
    """A console for stdout (or stderr) that is unbounded when not a terminal."""
    return _Console(stderr=stderr, soft_wrap=soft_wrap, highlight=highlight)
