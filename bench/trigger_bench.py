"""Events → started executions per second: from NATS JetStream, Redis Streams, RabbitMQ, and
``POST /v1/events``.

Each run is on a fresh database (SQLite: a file in a temporary folder; PostgreSQL:
``legato_bench_<random>``, bench/pgdb.py) with one subscription (``bench.event`` starts the
do-nothing workflow ``on_event`` of bench/trigger_app.py) and the engine in a subprocess:
``legato dev trigger_app`` (``PYTHONPATH=bench``), as it runs in production.

* **a broker** (``nats``, ``redis``, ``rabbitmq``): N events are published first (a stream,
  group or queue of the run's own name on the broker of this machine, removed afterwards); then
  ``legato dev trigger_app --event-source URL`` starts, and the clock runs from its log line
  "consuming events from" until the database holds N executions. The consumer fetches batches
  (256) and records each batch in one transaction. Target: >= 1,000 events/s per broker.
* **http-batch**: 8 concurrent clients post ``{"events": [...]}`` of 100 events each;
  **http-single**: 16 clients post one event per request. Each answer comes after its commit;
  the clock runs from the first request to the last answer.

stdout: one JSON line per run, then a summary line per database (medians over repeats).
Progress, and the logs of a failed run's processes, go to stderr.

    .venv/bin/python bench/trigger_bench.py                 # SQLite and PostgreSQL, 10,000 events
    .venv/bin/python bench/trigger_bench.py --db sqlite --sources nats,redis
    .venv/bin/python bench/trigger_bench.py --smoke         # tiny sizes: CI checks it runs
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

import aio_pika
import aiohttp
import nats
import pgdb
import psycopg
import redis.asyncio as aioredis
import trigger_app
from api_bench import Processes, fresh_database, processes
from scaling import migrate

import legato

SOURCES = ("nats", "redis", "rabbitmq", "http-batch", "http-single")
BROKER_URLS = {
    "nats": "nats://127.0.0.1:4222",
    "redis": "redis://127.0.0.1:6379/0",
    "rabbitmq": "amqp://guest:guest@127.0.0.1:5672/",
}
READY_TIMEOUT_S = 60.0
RUN_TIMEOUT_S = 600.0
HTTP_BATCH = 100


def log(msg: str) -> None:
    print(f"[trigger_bench] {msg}", file=sys.stderr, flush=True)


def bodies(run: str, count: int) -> list[bytes]:
    return [
        json.dumps({"specversion": "1.0", "id": f"{run}-{n}", "source": "bench",
                    "type": trigger_app.EVENT_TYPE, "data": {"n": n}}).encode()
        for n in range(count)
    ]  # fmt: skip


async def subscribe(url: str) -> None:
    app = trigger_app.register(legato.App(url))
    try:
        await app.create_subscription("bench", trigger_app.EVENT_TYPE, "on_event")
    finally:
        await app.shutdown()


def count_executions(url: str) -> int:
    if pgdb.is_postgres(url):
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT count(*) FROM executions").fetchone()
    else:
        with sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30) as conn:
            row = conn.execute("SELECT count(*) FROM executions").fetchone()
    return int(row[0]) if row else 0


# --- brokers: publish first, then time the consumer -------------------------------------------
class Corner:
    """The run's own stream, group or queue on one broker: publishing, its URL, removal."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.name = f"legato-bench-{uuid.uuid4().hex[:10]}"
        self.stream = self.name.replace("-", "_").upper()

    def url(self) -> str:
        base = BROKER_URLS[self.kind]
        if self.kind == "nats":
            return f"{base}?stream={self.stream}&subjects={self.name}.>&durable=legato"
        if self.kind == "redis":
            return f"{base}?stream={self.name}&group=legato"
        return f"{base}?queue={self.name}"

    async def publish(self, events: list[bytes]) -> None:
        window = 1000
        if self.kind == "nats":
            nc = await nats.connect(BROKER_URLS["nats"])
            js = nc.jetstream()
            await js.add_stream(name=self.stream, subjects=[f"{self.name}.>"])
            for i in range(0, len(events), window):
                acks = [await js.publish_async(f"{self.name}.e", b) for b in events[i : i + window]]
                await asyncio.gather(*acks)
            await nc.close()
        elif self.kind == "redis":
            client = aioredis.Redis.from_url(BROKER_URLS["redis"])
            for i in range(0, len(events), window):
                async with client.pipeline(transaction=False) as pipe:
                    for b in events[i : i + window]:
                        pipe.xadd(self.name, {"event": b})
                    await pipe.execute()
            await client.aclose()
        else:
            connection = await aio_pika.connect(BROKER_URLS["rabbitmq"])
            channel = await connection.channel()
            await channel.declare_queue(self.name, durable=True)
            persistent = aio_pika.DeliveryMode.PERSISTENT
            for i in range(0, len(events), window):
                await asyncio.gather(*(
                    channel.default_exchange.publish(
                        aio_pika.Message(b, delivery_mode=persistent), routing_key=self.name)
                    for b in events[i : i + window]
                ))  # fmt: skip
            await connection.close()

    async def remove(self) -> None:
        try:
            if self.kind == "nats":
                nc = await nats.connect(BROKER_URLS["nats"])
                await nc.jetstream().delete_stream(self.stream)
                await nc.close()
            elif self.kind == "redis":
                client = aioredis.Redis.from_url(BROKER_URLS["redis"])
                await client.delete(self.name)
                await client.aclose()
            else:
                connection = await aio_pika.connect(BROKER_URLS["rabbitmq"])
                channel = await connection.channel()
                await channel.queue_delete(self.name)
                await connection.close()
        except Exception as exc:  # noqa: BLE001 - reported, not fatal
            log(f"could not remove {self.kind} {self.name}: {exc!r}")


def wait_until(check: Callable[[], bool], what: str, limit: float, procs: Processes) -> float:
    """Poll ``check`` until true; the time it became true (perf_counter)."""
    deadline = time.monotonic() + limit
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not happen within {limit:.0f}s")
        for p in procs.procs:
            if p.popen.poll() is not None:
                raise RuntimeError(f"{p.name} exited with {p.popen.returncode}")
        time.sleep(0.01)
    return time.perf_counter()


def measure_broker(kind: str, db: str, pg_server: str, count: int) -> dict[str, Any]:
    corner = Corner(kind)
    with fresh_database(db, pg_server) as url:
        migrate(url)
        asyncio.run(subscribe(url))
        asyncio.run(corner.publish(bodies(corner.name, count)))
        try:
            with processes() as procs:
                args = ["dev", "trigger_app", "--db", url, "--no-http",
                        "--event-source", corner.url()]  # fmt: skip
                proc = procs.spawn("server", args)

                def consuming() -> bool:
                    return "consuming events from" in procs.text_of(proc)

                t0 = wait_until(consuming, "the consumer's start", READY_TIMEOUT_S, procs)
                t1 = wait_until(lambda: count_executions(url) >= count, f"{count} executions",
                                RUN_TIMEOUT_S, procs)  # fmt: skip
        finally:
            asyncio.run(corner.remove())
    wall = t1 - t0
    return {"workload": f"events-{kind}", "backend": f"legato-{db}", "N": count,
            "wall_s": round(wall, 4), "events_per_s": round(count / wall, 1)}  # fmt: skip


# --- POST /v1/events -------------------------------------------------------------------------
async def post_events(base: str, events: list[bytes], per_request: int, clients: int) -> float:
    payloads: list[bytes] = []
    for i in range(0, len(events), per_request):
        chunk = events[i : i + per_request]
        payloads.append(chunk[0] if per_request == 1 else
                        b'{"events": [' + b",".join(chunk) + b"]}")  # fmt: skip
    started = 0
    connector = aiohttp.TCPConnector(limit=clients)
    headers = {"content-type": "application/json"}
    async with aiohttp.ClientSession(base, connector=connector, headers=headers) as session:

        async def one_client() -> None:
            nonlocal started
            while payloads:
                payload = payloads.pop()
                async with session.post("/v1/events", data=payload) as response:
                    answer = await response.json()
                    if response.status != 202:
                        raise RuntimeError(f"POST /v1/events answered {response.status}: {answer}")
                    results = answer["results"] if isinstance(answer, dict) else answer
                    started += sum(r["status"] == "started" for r in results)

        t0 = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        wall = time.perf_counter() - t0
    if started != len(events):
        raise RuntimeError(f"{started} of {len(events)} events started an execution")
    return wall


def measure_http(single: bool, db: str, pg_server: str, count: int) -> dict[str, Any]:
    per_request, clients = (1, 16) if single else (HTTP_BATCH, 8)
    with fresh_database(db, pg_server) as url:
        migrate(url)
        asyncio.run(subscribe(url))
        with processes() as procs:
            args = ["dev", "trigger_app", "--db", url, "--http", "127.0.0.1:0"]
            base = procs.api_address(procs.spawn("server", args))
            events = bodies(uuid.uuid4().hex[:8], count)
            wall = asyncio.run(post_events(base, events, per_request, clients))
    return {"workload": "events-http-single" if single else "events-http-batch",
            "backend": f"legato-{db}", "N": count, "per_request": per_request,
            "clients": clients, "wall_s": round(wall, 4),
            "events_per_s": round(count / wall, 1)}  # fmt: skip


def measure(source: str, db: str, pg_server: str, count: int) -> dict[str, Any]:
    if source.startswith("http-"):
        return measure_http(source == "http-single", db, pg_server, count)
    return measure_broker(source, db, pg_server, count)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--pg-url", default=pgdb.server_url(), help="PostgreSQL server (%(default)s)")
    p.add_argument("--events", type=int, default=10_000, help="events per run")
    p.add_argument("--sources", default=",".join(SOURCES), help="comma-separated: %(default)s")
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--smoke", action="store_true", help="tiny sizes, one repeat, SQLite")
    args = p.parse_args(argv)
    if args.smoke:
        args.db, args.events, args.repeat = "sqlite", 200, 1
    sources = [s.strip() for s in args.sources.split(",") if s.strip()]
    unknown = set(sources) - set(SOURCES)
    if unknown:
        p.error(f"unknown sources {sorted(unknown)}; known: {', '.join(SOURCES)}")
    for db in ["sqlite", "postgres"] if args.db == "both" else [args.db]:
        rates: dict[str, list[float]] = {}
        for _ in range(args.repeat):
            for source in sources:
                log(f"{source} on {db}: {args.events} events")
                run = measure(source, db, args.pg_url, args.events)
                print(json.dumps(run), flush=True)
                rates.setdefault(source, []).append(run["events_per_s"])
        summary: dict[str, Any] = {"summary": "events", "backend": f"legato-{db}",
                                   "repeats": args.repeat, "N": args.events}  # fmt: skip
        summary |= {f"{s}_events_per_s": statistics.median(r) for s, r in rates.items()}
        print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
