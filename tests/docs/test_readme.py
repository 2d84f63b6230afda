"""Every Python example of README.md, run as a user who copies it would: saved as a file and
run with ``python`` in an empty folder (its ``sqlite:///app.db`` a new file there). The
``legato.Client`` example talks to a ``legato dev`` of its own, the PostgreSQL one to a fresh
database, and the testing example is run by pytest with a history exported by the CLI to
replay."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.api_process import Waiter, serve_api
from tests.processes import Processes

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.S | re.M)


def _examples() -> list[tuple[int, str]]:
    text = README.read_text()
    return [(text[: m.start()].count("\n") + 1, m[1]) for m in BLOCK.finditer(text)]


EXAMPLES = _examples()


def _run(folder: Path, code: str, env: dict[str, str]) -> str:
    script = folder / "example.py"
    script.write_text(code)
    done = subprocess.run([sys.executable, str(script)], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=90)  # fmt: skip
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_readme_has_its_examples() -> None:
    assert len(EXAMPLES) >= 9
    for line, code in EXAMPLES:  # complete: nothing left to the reader, no top-level await
        compile(code, f"README.md line {line}", "exec")
        elided = [n for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Constant)
                  and n.value is Ellipsis]  # fmt: skip
        assert not elided, f"README.md line {line}: an example with '...'"


def _env(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGATO_")}
    return {**env, "PYTHONPATH": str(folder)}


CLIENT = [(n, code) for n, code in EXAMPLES if "legato.Client(" in code]
OTHERS = [(n, code) for n, code in EXAMPLES if "legato.Client(" not in code]


@pytest.mark.timeout(180)
@pytest.mark.parametrize(("line", "code"), OTHERS, ids=[f"line-{n}" for n, _ in OTHERS])
def test_every_python_example_runs(
    line: int, code: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    env = _env(tmp_path)
    if "psycopg" in code:
        env["LEGATO_DB"] = request.getfixturevalue("pg_url")
    if "def test_" in code:
        _testing_example(tmp_path, code, env)
    else:
        _run(tmp_path, code, env)


@pytest.mark.timeout(180)
@pytest.mark.parametrize(("line", "code"), CLIENT, ids=[f"line-{n}" for n, _ in CLIENT])
async def test_the_client_example_runs(
    line: int, code: str, tmp_path: Path, processes: Processes, wait_for: Waiter
) -> None:
    app = Path(__file__).with_name("readme_app.py")
    db = f"sqlite:///{tmp_path / 'dev.db'}"
    _, server = await serve_api(processes, wait_for, ["dev", str(app), "--db", db])
    env = {**_env(tmp_path), "LEGATO_SERVER": server}
    assert "checked out order-42" in _run(tmp_path, code, env)


def _testing_example(folder: Path, code: str, env: dict[str, str]) -> None:
    """Its tests under pytest, with one history to replay: run and exported as a user would
    (``legato executions history ID --json``)."""
    (folder / "test_example.py").write_text(code)
    _run(folder, (
        "import asyncio\n"
        "from legato.testing import WorkflowEnvironment\n"
        "import test_example as example\n"
        "async def main() -> None:\n"
        "    async with WorkflowEnvironment(example.app, url='sqlite:///h.db'):\n"
        "        h = await example.app.start(example.reminder, 'bob', id='reminder-1')\n"
        "        await h.result()\n"
        "asyncio.run(main())\n"
    ), env)  # fmt: skip
    (folder / "histories").mkdir()
    with (folder / "histories" / "reminder-1.json").open("w") as out:
        exported = subprocess.run(
            [sys.executable, "-m", "legato.cli", "executions", "history", "reminder-1", "--json",
             "--db", "sqlite:///h.db"],
            cwd=folder, env=env, stdout=out, text=True, timeout=60,
        )  # fmt: skip
    assert exported.returncode == 0
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o",
         "asyncio_mode=auto", "-o", "asyncio_default_fixture_loop_scope=function", "-W",
         "error", "test_example.py"],
        cwd=folder, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0 and "2 passed" in done.stdout, done.stdout + done.stderr
