"""The ``legato`` command line (typer + rich), thin over the client and engine."""
