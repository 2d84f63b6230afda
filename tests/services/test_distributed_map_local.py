"""A Distributed Map with no AWS at all: items read from, and results written to, a local
folder named by the app (``App(item_buckets=...)``) or by a URL in the definition (developer
guide, "ItemReader (Map)", "ResultWriter (Map)", "Map state in Distributed mode")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import legato
from legato.testing import WorkflowEnvironment


def _machine(reader: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemReader": reader,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Double",
                    "States": {"Double": {"Type": "Task", "Resource": "double", "End": True}},
                },
                "End": True,
                **extra,
            }
        },
    }


def _app(folder: Path, url: str | None = None) -> legato.App:
    url = url or f"sqlite:///{folder / 'db.sqlite'}"
    app = legato.App(url, item_buckets={"data": folder.as_uri()})

    @app.step(name="double")
    def double(item: dict[str, Any]) -> dict[str, Any]:
        n = int(item["n"])
        if n < 0:
            raise ValueError(f"negative: {n}")
        return {"id": item["id"], "double": 2 * n}

    return app


async def _run(app: legato.App, machine: dict[str, Any], input: Any = None) -> Any:
    app.register_state_machine("dmap", machine)
    async with WorkflowEnvironment(app):
        handle = await app.start("dmap", input or {})
        return await handle.result(timeout=60)


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The store the test runs on: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "postgres":
        return str(request.getfixturevalue("pg_url"))
    return f"sqlite:///{tmp_path / 'db.sqlite'}"


async def test_a_csv_file_in_a_mapped_bucket_runs_one_child_per_row(
    tmp_path: Path, db_url: str
) -> None:
    url = db_url
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "rows.csv").write_text("id,n\na,1\nb,2\nc,3\n")
    reader = {
        "Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
        "Parameters": {"Bucket": "data", "Key": "in/rows.csv"},
    }
    output = await _run(_app(tmp_path, url), _machine(reader))
    assert output == [
        {"id": "a", "double": 2},
        {"id": "b", "double": 4},
        {"id": "c", "double": 6},
    ]


async def test_results_are_written_to_a_folder_url_in_aws_layout(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (tmp_path / "rows.jsonl").write_text('{"id": "a", "n": 1}\n\n{"id": "b", "n": -1}\n')
    reader = {
        "Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": {"InputType": "JSONL"},
        "Parameters": {"Bucket": "data", "Key.$": "$.key"},
    }
    writer = {
        "Resource": "arn:aws:states:::s3:putObject",
        "Parameters": {"Bucket": out.as_uri(), "Prefix": "runs"},
    }
    machine = _machine(reader, ResultWriter=writer, ToleratedFailureCount=1)
    output = await _run(_app(tmp_path), machine, {"key": "rows.jsonl"})
    run_id = output["MapRunArn"].rsplit(":", 1)[-1]
    assert output["MapRunArn"].startswith("arn:aws:states:us-east-1:123456789012:mapRun:dmap/Each:")
    assert output["ResultWriterDetails"] == {
        "Bucket": out.as_uri(),
        "Key": f"runs/{run_id}/manifest.json",
    }
    manifest = json.loads((out / "runs" / run_id / "manifest.json").read_text())
    succeeded = json.loads((out / "runs" / run_id / "SUCCEEDED_0.json").read_text())
    failed = json.loads((out / "runs" / run_id / "FAILED_0.json").read_text())
    assert manifest["ResultFiles"]["PENDING"] == []
    assert [f["Key"] for f in manifest["ResultFiles"]["SUCCEEDED"]] == [
        f"runs/{run_id}/SUCCEEDED_0.json"
    ]
    assert [json.loads(e["Output"]) for e in succeeded] == [{"id": "a", "double": 2}]
    assert succeeded[0]["Status"] == "SUCCEEDED"
    assert succeeded[0]["StateMachineArn"].endswith(":stateMachine:dmap/Each")
    assert [(e["Error"], json.loads(e["Input"])) for e in failed] == [
        ("ValueError", {"id": "b", "n": -1})
    ]


async def test_list_objects_in_a_folder(tmp_path: Path) -> None:
    for name in ("b.txt", "a.txt", "skip.bin"):
        (tmp_path / "files" / name).parent.mkdir(exist_ok=True)
        (tmp_path / "files" / name).write_bytes(b"12345")
    machine = {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:listObjectsV2",
                    "Parameters": {"Bucket": "data", "Prefix": "files/"},
                    "ReaderConfig": {"MaxItems": 2},
                },
                "ItemSelector": {
                    "key.$": "$$.Map.Item.Value.Key",
                    "size.$": "$$.Map.Item.Value.Size",
                },
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED"},
                    "StartAt": "P",
                    "States": {"P": {"Type": "Pass", "End": True}},
                },
                "End": True,
            }
        },
    }
    output = await _run(_app(tmp_path), machine)
    assert output == [{"key": "files/a.txt", "size": 5}, {"key": "files/b.txt", "size": 5}]


async def test_jsonata_batches_each_run_as_one_child(tmp_path: Path) -> None:
    """JSONata Arguments name the object; with an ItemBatcher each batch is one child's
    input, ``{"Items": [...], "BatchInput": ...}``."""
    (tmp_path / "n.json").write_text(json.dumps([{"n": i} for i in range(5)]))
    machine = {
        "QueryLanguage": "JSONata",
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"InputType": "JSON", "MaxItems": "{% $states.input.max %}"},
                    "Arguments": {"Bucket": "data", "Key": "{% $states.input.key %}"},
                },
                "ItemBatcher": {"MaxItemsPerBatch": 2, "BatchInput": {"tag": "t"}},
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED"},
                    "StartAt": "Sum",
                    "States": {
                        "Sum": {
                            "Type": "Pass",
                            "Output": "{% $states.input.BatchInput.tag"
                            " & $string($sum($states.input.Items.n)) %}",
                            "End": True,
                        }
                    },
                },
                "End": True,
            }
        },
    }
    output = await _run(_app(tmp_path), machine, {"key": "n.json", "max": 5})
    assert output == ["t1", "t5", "t4"]


async def test_a_replayed_parent_reads_once_and_starts_each_child_once(tmp_path: Path) -> None:
    """With a sticky cache of one execution, the parent is evicted and replayed while its
    children run: the read is recorded once and each child id is the same on every replay."""
    from legato.core.events import ChildScheduled, StepScheduled

    (tmp_path / "rows.csv").write_text("id,n\n" + "".join(f"r{i},{i}\n" for i in range(6)))
    reader = {
        "Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": {"InputType": "CSV"},
        "Parameters": {"Bucket": "data", "Key": "rows.csv"},
    }
    app = legato.App(
        f"sqlite:///{tmp_path / 'db.sqlite'}",
        item_buckets={"data": tmp_path.as_uri()},
        cache_size=1,
    )

    @app.step(name="double")
    def double(item: dict[str, Any]) -> int:
        return 2 * int(item["n"])

    app.register_state_machine("dmap", _machine(reader, MaxConcurrency=2))
    async with WorkflowEnvironment(app):
        handle = await app.start("dmap", {})
        assert await handle.result(timeout=60) == [0, 2, 4, 6, 8, 10]
        history = await handle.history()
        children = await app.list_executions(workflow="legato.map.child")
    reads = [e for e in history if isinstance(e, StepScheduled) and e.name == "legato.items.read"]
    assert len(reads) == 1
    started = [e.child_id for e in history if isinstance(e, ChildScheduled)]
    assert started == [f"{handle.id}/Each/1/{i}" for i in range(6)]
    assert sorted(c.id for c in children) == sorted(started)


def test_the_child_workflow_is_found_by_name_but_not_listed_as_the_apps() -> None:
    """Every app runs ``legato.map.child`` (children decided by any engine), yet it is not
    one of the app's workflows in listings (``/v1/workflows``, ``legato dev``)."""
    app = legato.App()
    wf = app.registry.workflow_named("legato.map.child")
    assert wf.kind == "state_machine"
    assert app.registry.lookup_workflow("legato.map.child", wf.version) is wf
    assert all(not name.startswith("legato.") for name, _ in app.registry.workflows)


async def test_a_missing_file_or_a_ragged_csv_is_item_reader_failed(tmp_path: Path) -> None:
    (tmp_path / "ragged.csv").write_text("id,n\na,1\nb,2,3\n")
    for key, words in (("absent.csv", "absent.csv"), ("ragged.csv", "line 3 has 3 fields")):
        reader = {
            "Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "CSV"},
            "Parameters": {"Bucket": "data", "Key": key},
        }
        app = _app(tmp_path, f"sqlite:///{tmp_path / (key + '.db')}")
        app.register_state_machine("dmap", _machine(reader))
        async with WorkflowEnvironment(app):
            handle = await app.start("dmap", {})
            with pytest.raises(legato.ExecutionFailedError):
                await handle.result(timeout=60)
            row = await handle.status_row()
        assert row.error_type == "States.ItemReaderFailed"
        assert row.error_message is not None and words in row.error_message
