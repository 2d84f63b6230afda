"""Holds an owner's liveness lock until killed: ``python liveness_holder.py URL OWNER [engine]``.
Prints ``held`` once the lock is taken (the test waits for that line, then kills it)."""

from __future__ import annotations

import asyncio
import os
import socket
import sys

from legato.client import open_store
from legato.ports.liveness import OwnerInfo


async def main(url: str, owner: str, orchestrates: bool) -> None:
    store = open_store(url)
    info = OwnerInfo(owner, orchestrates, socket.gethostname(), os.getpid(), 0, "liveness_holder")
    await store.hold(info)
    print("held", flush=True)
    await asyncio.Event().wait()  # until killed


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3:] == ["engine"]))
