"""The trap ``legato run`` had: against a running engine whose app registers a state machine of
the same name, ``legato run other/order.asl.yaml`` ran the app's ``order``, not the file. Now
the file's content is what runs, or nothing does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import legato
from legato.errors import DefinitionNotFound
from tests.conftest import Waiter
from tests.processes import Processes

ORDER_APP = """
import legato

app = legato.App()
app.register_state_machine("order", {
    "StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "the app's order", "End": True}},
})
"""
THEIRS = "StartAt: A\nStates:\n  A:\n    Type: Pass\n    Result: the file's order\n    End: true\n"
LEGATO = [sys.executable, "-m", "legato.cli"]


def _run(tmp_path: Path, db: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*LEGATO, "run", *args, "--db", db], cwd=tmp_path, capture_output=True, text=True,
        timeout=60, env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )  # fmt: skip


async def test_run_against_a_running_engine_runs_the_file_or_nothing(
    tmp_path: Path, processes: Processes, wait_for: Waiter
) -> None:
    (tmp_path / "order_app.py").write_text(ORDER_APP)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "order.asl.yaml").write_text(THEIRS)
    db = f"sqlite:///{tmp_path / 'dev.db'}"
    processes.spawn("dev", [*LEGATO, "dev", "order_app", "--db", db],
                    env={"PYTHONPATH": str(tmp_path)})  # fmt: skip
    client = legato.App(db)
    try:

        async def recorded() -> bool:  # the engine stores its app's order as it starts
            try:
                return (await client.get_definition("order")).version == "1"
            except (DefinitionNotFound, legato.errors.StoreError):
                return False

        await wait_for(recorded)
        refused = _run(tmp_path, db, "other/order.asl.yaml", "--id", "mine")
        assert refused.returncode == 1 and "Traceback" not in refused.stderr
        assert "--name OTHER" in refused.stderr and "--new-version" in refused.stderr
        assert await client.list_executions() == []  # nothing was started

        bumped = _run(tmp_path, db, "other/order.asl.yaml", "--new-version", "--id", "mine")
        assert bumped.returncode == 0, bumped.stderr
        handle = client.get_handle("mine")
        assert await handle.result(timeout=60) == "the file's order"  # run by the dev engine
        assert (await handle.status()).version == "2"
    finally:
        await client.shutdown()
        processes.stop_all()
