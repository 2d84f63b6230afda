"""How ``legato -h`` reads: plain text (the Typers are made with ``rich_markup_mode=None``),
every command of a list with its first sentence whole, every value named in words."""

from __future__ import annotations

from typing import Any

from typer.core import TyperGroup

#: what an option's value is, by its name, in help (``--input JSON``), else by its type
_VALUE_NAMES = {
    "input": "JSON", "data": "JSON", "payload": "JSON", "args": "JSON", "kwargs": "JSON",
    "http": "HOST:PORT", "event_source": "URL", "cron": "EXPR", "interval": "DURATION",
    "jitter": "DURATION", "catchup_window": "DURATION", "timezone": "ZONE", "start_at": "TIME",
    "end_at": "TIME", "start": "WORKFLOW",
}  # fmt: skip
_TYPE_NAMES = {"int": "N", "float": "NUMBER", "Path": "PATH", "path": "PATH"}


def _name_values(command: Any) -> None:
    """Help names each value in words (``--limit N``, ``--input JSON``, ``{FILE}``), not as a
    Python type (``<str>``, ``<list[str]>``)."""
    for param in command.params:
        if param.param_type_name == "argument":  # its name says it: no type beside it
            param.display_type_rich = lambda ctx: None
        if param.metavar is not None or getattr(param, "is_flag", False):
            continue
        if param.param_type_name == "argument":
            param.metavar = param.name.upper()
        elif param.name in _VALUE_NAMES:
            param.metavar = _VALUE_NAMES[param.name]
        elif "seconds" in param.name or param.name == "timeout":
            param.metavar = "SECONDS"
        else:
            param.metavar = _TYPE_NAMES.get(param.bare_type(), "TEXT")


class HelpGroup(TyperGroup):
    """A group whose list of commands gives each one's first sentence whole, wrapped, rather
    than cut to the terminal's width with '...', and whose commands name their values in
    words (``_name_values``)."""

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _name_values(command)
        return command

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=10_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
