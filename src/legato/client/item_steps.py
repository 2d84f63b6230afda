"""The built-in steps of a Distributed Map (``legato.items.read``, ``legato.items.write``) and
the workflow its children run (``legato.map.child``), registered in every app.

Reading and writing are durable steps so that a Map Run reads its items once and records
them: a replay or a crash after the read never reads the object again. Any failure is the
Map state's ``States.ItemReaderFailed`` / ``States.ResultWriterFailed`` (a ``NamedStepError``),
with a cause naming the bucket and key. The stores: ``legato.adapters.item_stores`` (S3 via
the app's AWS clients, or a folder / fsspec URL, ``App(item_buckets=...)``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from legato.core.asl import item_formats, result_files
from legato.core.asl.integration_steps import ITEMS_READ_STEP, ITEMS_WRITE_STEP, MAP_CHILD_WORKFLOW
from legato.core.asl.item_formats import ITEM_READER_FAILED, RESULT_WRITER_FAILED, ItemReadError
from legato.engine.statemachine.distributed_map import map_child_workflow
from legato.errors import NamedStepError

if TYPE_CHECKING:
    from legato.adapters.item_stores import ItemStore
    from legato.client.app import App


def register_item_steps(app: App) -> None:
    def store(bucket: Any) -> ItemStore:
        from legato.adapters.item_stores import store_for

        return store_for(str(bucket), app.aws_clients, app.item_buckets)

    # fsspec and botocore are imported by the first Map Run, not by every `import legato`
    async def read_items(request: dict[str, Any]) -> list[Any]:
        from legato.adapters.item_stores import StoreError

        params = dict(request.get("params") or {})
        config = request.get("config") or {}
        try:
            bucket = store(params.pop("Bucket"))
            if request.get("resource") == "listObjectsV2":
                listed = await bucket.listing(params, item_formats.max_items(config))
                return [item_formats.listed_item(e) for e in listed]
            key = str(params.pop("Key", ""))
            where = f"{bucket.name}/{key}"
            data = await bucket.get(key, params)
            if config.get("InputType") == "MANIFEST":
                return await _inventory(store, data, config, where)
            return item_formats.parse_items(data, config, where)
        except (StoreError, ItemReadError) as exc:
            raise NamedStepError(ITEM_READER_FAILED, str(exc)) from None

    async def write_results(request: dict[str, Any]) -> Any:
        from legato.adapters.item_stores import StoreError

        run = result_files.MapRun.from_json(request["run"])
        bucket_name, prefix = str(request["bucket"]), str(request.get("prefix") or "")
        files = result_files.result_files(run, request["records"], prefix)
        try:
            bucket = store(bucket_name)
            for key, content in files:
                await bucket.put(key, content)
            manifest = result_files.manifest(run, bucket_name, files)
            await bucket.put(result_files.folder(prefix, run.id) + "manifest.json", manifest)
        except StoreError as exc:
            raise NamedStepError(RESULT_WRITER_FAILED, str(exc)) from None
        return result_files.writer_output(run, bucket_name, prefix)

    app.registry.add_step(read_items, ITEMS_READ_STEP, None, None, None, None)
    app.registry.add_step(write_results, ITEMS_WRITE_STEP, None, None, None, None)
    child = map_child_workflow(app.machines.identity)
    app.registry.add_builtin_workflow(child, MAP_CHILD_WORKFLOW, kind="state_machine")


async def _inventory(store: Any, data: bytes, config: Any, where: str) -> list[Any]:
    """An S3 Inventory manifest's items: the rows of each of its data files, in order."""
    bucket_name, keys, schema = item_formats.inventory_files(data, where)
    bucket: ItemStore = store(bucket_name)
    limit = item_formats.max_items(config)
    items: list[Any] = []
    for key in keys:
        if limit is not None and len(items) >= limit:
            break
        content = await bucket.get(key, {})
        items += item_formats.inventory_items(content, key, schema, f"{bucket_name}/{key}")
    return item_formats.take(items, limit)
