"""Where a Distributed Map reads its items and writes its results: an S3 bucket through the
app's AWS clients, or a folder or any fsspec URL, so the same definition runs with no AWS.

Which one a ``Bucket`` names, first match wins: a bucket that is a URL (``file:///data``,
``memory://tests``: S3 bucket names hold no ``:`` or ``/``, so a URL is never one) is that
location; a bucket the app maps (``App(item_buckets={"my-bucket": "file:///srv/data"})``) is
its URL, so an unchanged AWS definition reads a local folder; any other is the S3 bucket.
An object's key is a path under the location.

Errors are raised as :class:`StoreError` with a message naming the bucket and key; the steps
turn them into ``States.ItemReaderFailed`` / ``States.ResultWriterFailed``.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Mapping
from typing import Any, Protocol

import fsspec
from botocore.exceptions import BotoCoreError, ClientError

from legato.adapters.aws.clients import AwsClients

JsonObj = dict[str, Any]


class StoreError(Exception):
    """A read, list or write that failed; the message says which object and why."""


class ItemStore(Protocol):
    """One bucket (or location standing for one)."""

    name: str

    async def get(self, key: str, params: Mapping[str, Any]) -> bytes: ...

    async def listing(self, params: Mapping[str, Any], limit: int | None) -> list[JsonObj]:
        """Entries ``{ETag, Key, LastModified (epoch seconds), Size, StorageClass}`` in key
        order, at most ``limit`` of them (the pages past it are not fetched)."""
        ...

    async def put(self, key: str, data: bytes) -> None: ...


def store_for(bucket: str, clients: AwsClients, mapped: Mapping[str, str]) -> ItemStore:
    """The store a ``Bucket`` value names (see the module docstring)."""
    if "://" in bucket:
        return FsspecStore(bucket, bucket)
    if bucket in mapped:
        return FsspecStore(bucket, mapped[bucket])
    return S3Store(bucket, clients)


class S3Store:
    def __init__(self, name: str, clients: AwsClients) -> None:
        self.name = name
        self._clients = clients

    async def get(self, key: str, params: Mapping[str, Any]) -> bytes:
        client = await self._clients.client("s3")
        try:
            response = await client.get_object(**{**params, "Bucket": self.name, "Key": key})
            async with response["Body"] as body:
                data: bytes = await body.read()
        except (ClientError, BotoCoreError) as exc:
            raise StoreError(f"s3://{self.name}/{key}: {_reason(exc)}") from None
        return data

    async def listing(self, params: Mapping[str, Any], limit: int | None) -> list[JsonObj]:
        client = await self._clients.client("s3")
        out: list[JsonObj] = []
        try:
            pages = client.get_paginator("list_objects_v2").paginate(
                **{**params, "Bucket": self.name}
            )
            async for page in pages:
                if limit is not None and len(out) >= limit:
                    break
                for obj in page.get("Contents", []):
                    out.append(
                        {
                            "ETag": obj.get("ETag"),
                            "Key": obj.get("Key"),
                            "LastModified": int(obj["LastModified"].timestamp()),
                            "Size": obj.get("Size"),
                            "StorageClass": obj.get("StorageClass", "STANDARD"),
                        }
                    )
        except (ClientError, BotoCoreError) as exc:
            raise StoreError(f"s3://{self.name}: {_reason(exc)}") from None
        return out[:limit]

    async def put(self, key: str, data: bytes) -> None:
        client = await self._clients.client("s3")
        try:
            await client.put_object(Bucket=self.name, Key=key, Body=data)
        except (ClientError, BotoCoreError) as exc:
            raise StoreError(f"s3://{self.name}/{key}: {_reason(exc)}") from None


class FsspecStore:
    """A folder or fsspec location standing for a bucket. fsspec's file systems are
    synchronous: each call runs in a thread so the worker's event loop keeps going."""

    def __init__(self, name: str, url: str) -> None:
        self.name = name
        self._fs, root = fsspec.core.url_to_fs(url)
        self._root = str(root).rstrip("/")

    def _path(self, key: str) -> str:
        return f"{self._root}/{key.lstrip('/')}"

    async def get(self, key: str, params: Mapping[str, Any]) -> bytes:
        try:
            return await asyncio.to_thread(self._fs.cat_file, self._path(key))
        except (OSError, ValueError) as exc:
            raise StoreError(f"{self.name}/{key}: {exc!r}") from None

    async def listing(self, params: Mapping[str, Any], limit: int | None) -> list[JsonObj]:
        found = await asyncio.to_thread(self._list, str(params.get("Prefix", "")))
        return found[:limit]

    def _list(self, prefix: str) -> list[JsonObj]:
        try:
            found = self._fs.find(self._root, detail=True)
        except (OSError, ValueError) as exc:
            raise StoreError(f"{self.name}: {exc!r}") from None
        out: list[JsonObj] = []
        for path, info in sorted(found.items()):  # S3 lists keys in UTF-8 binary order
            key = str(path)[len(self._root) :].lstrip("/")
            if not key.startswith(prefix) or info.get("type") == "directory":
                continue
            modified = _epoch_seconds(info)
            size = int(info.get("size") or 0)
            # not a content hash (that would read every object): stable while it is unchanged
            tag = hashlib.md5(f"{key}:{size}:{modified}".encode(), usedforsecurity=False)
            out.append(
                {
                    "ETag": f'"{tag.hexdigest()}"',
                    "Key": key,
                    "LastModified": modified,
                    "Size": size,
                    "StorageClass": "STANDARD",
                }
            )
        return out

    async def put(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(self._put, key, data)

    def _put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        try:
            self._fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
            self._fs.pipe_file(path, data)
        except (OSError, ValueError) as exc:
            raise StoreError(f"{self.name}/{key}: {exc!r}") from None


def _epoch_seconds(info: Mapping[str, Any]) -> int:
    value = info.get("mtime", info.get("created", 0))
    if hasattr(value, "timestamp"):
        return int(value.timestamp())
    return int(value or 0)


def _reason(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'Error')}: {error.get('Message', '')}".rstrip(": ")
    return str(exc)
