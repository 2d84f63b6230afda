"""The brokers on this machine, as the tests use them: reachability (skip, or fail under
LEGATO_REQUIRE_SERVICES=1, like tests/postgres.py), a uniquely named stream, group or queue per
test with its event source URL, publishing, how much the broker still holds unacknowledged,
and cleaning up. Also private broker processes on a free port, for the tests that restart one
(the shared services stay untouched for the tests running beside)."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import uuid
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aio_pika
import nats
import nats.js.errors
import pytest
import redis.asyncio as aioredis

from tests.processes import Processes

REQUIRED = os.environ.get("LEGATO_REQUIRE_SERVICES") == "1"
HOST = "127.0.0.1"
PORTS = {"nats": 4222, "redis": 6379, "rabbitmq": 5672}
START = {
    "nats": "start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- "
    "-a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log",
    "redis": "redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save '' "
    "--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log",
    "rabbitmq": "rabbitmq-server -detached",
}


def reachable(port: int, host: str = HOST) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def require(kind: str) -> None:
    """Skip (or, with LEGATO_REQUIRE_SERVICES=1, fail) when the shared broker is down."""
    if reachable(PORTS[kind]):
        return
    why = f"{kind} is not reachable on {HOST}:{PORTS[kind]}; start it with: {START[kind]}"
    if REQUIRED:
        pytest.fail(f"{why} (LEGATO_REQUIRE_SERVICES=1)")
    pytest.skip(reason=f"{why} (LEGATO_REQUIRE_SERVICES=1 makes this a failure, as in CI)")


def unique(prefix: str = "legato-test") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


class Broker(ABC):
    """One test's private corner of a broker: names no other test uses."""

    kind: str

    def __init__(self, host: str = HOST, port: int | None = None) -> None:
        self.host = host
        self.port = port or PORTS[self.kind]
        self.name = unique()

    @abstractmethod
    def url(self, *, port: int | None = None, **options: str | int) -> str:
        """The event source URL (through ``port``, say a proxy's, if given)."""

    @abstractmethod
    async def publish(self, bodies: Sequence[bytes]) -> None: ...

    @abstractmethod
    async def unacknowledged(self) -> int:
        """Messages the broker holds that no consumer has acknowledged (pending or queued)."""

    @abstractmethod
    async def cleanup(self) -> None: ...

    def _query(self, *layers: dict[str, str | int]) -> str:
        """Query parameters, later layers overriding earlier ones."""
        merged: dict[str, str | int] = {}
        for layer in layers:
            merged.update(layer)
        return "&".join(f"{k}={v}" for k, v in merged.items())


class NatsBroker(Broker):
    kind = "nats"

    def __init__(self, host: str = HOST, port: int | None = None) -> None:
        super().__init__(host, port)
        self.stream = self.name.replace("-", "_").upper()
        self.subject = f"{self.name}.events"
        self.durable = "legato"
        self._nc: Any = None

    def url(self, *, port: int | None = None, **options: str | int) -> str:
        # an ack lost (a cut, a kill) is delivered again after 1 s, not JetStream's 30 s
        mine: dict[str, str | int] = {"stream": self.stream, "subjects": f"{self.name}.>"}
        query = self._query(mine, {"durable": self.durable, "ack_wait_ms": 1000}, options)
        return f"nats://{self.host}:{port or self.port}?{query}"

    async def _js(self) -> Any:
        if self._nc is None or not self._nc.is_connected:
            self._nc = await nats.connect(f"nats://{self.host}:{self.port}", allow_reconnect=False)
            js = self._nc.jetstream()
            try:
                await js.stream_info(self.stream)
            except nats.js.errors.NotFoundError:
                await js.add_stream(name=self.stream, subjects=[f"{self.name}.>"])
        return self._nc.jetstream()

    async def publish(self, bodies: Sequence[bytes]) -> None:
        js = await self._js()
        # acknowledged by the stream (stored) before this returns; in windows, for speed
        for start in range(0, len(bodies), 500):
            window = bodies[start : start + 500]
            futures = [await js.publish_async(self.subject, body) for body in window]
            await asyncio.gather(*futures)

    async def unacknowledged(self) -> int:
        js = await self._js()
        try:
            info = await js.consumer_info(self.stream, self.durable)
        except nats.js.errors.NotFoundError:
            return len(await self._stored())
        return int(info.num_pending or 0) + int(info.num_ack_pending or 0)

    async def _stored(self) -> list[int]:
        js = await self._js()
        info = await js.stream_info(self.stream)
        return [info.state.messages]

    async def cleanup(self) -> None:
        try:
            js = await self._js()
            await js.delete_stream(self.stream)
        except Exception:  # a private broker already stopped
            pass
        finally:
            if self._nc is not None and not self._nc.is_closed:
                await self._nc.close()


class RedisBroker(Broker):
    kind = "redis"

    def __init__(self, host: str = HOST, port: int | None = None) -> None:
        super().__init__(host, port)
        self.group = "legato"
        self.client = aioredis.Redis(host=self.host, port=self.port)

    def url(self, *, port: int | None = None, **options: str | int) -> str:
        query = self._query({"stream": self.name, "group": self.group}, options)
        return f"redis://{self.host}:{port or self.port}/0?{query}"

    async def publish(self, bodies: Sequence[bytes]) -> None:
        for start in range(0, len(bodies), 500):
            async with self.client.pipeline(transaction=False) as pipe:
                for body in bodies[start : start + 500]:
                    pipe.xadd(self.name, {"event": body})
                await pipe.execute()

    async def publish_fields(self, fields: dict[str, str]) -> None:
        await self.client.xadd(self.name, {k: v for k, v in fields.items()})

    async def unacknowledged(self) -> int:
        groups: Any = await self.client.xinfo_groups(self.name)
        for group in groups:
            if group["name"] in (self.group, self.group.encode()):
                return int(group["pending"]) + int(group.get("lag") or 0)
        return int(await self.client.xlen(self.name))

    async def cleanup(self) -> None:
        try:
            await self.client.delete(self.name)
        except Exception:  # a private broker already stopped
            pass
        finally:
            await self.client.aclose()


class RabbitBroker(Broker):
    kind = "rabbitmq"

    def __init__(self, host: str = HOST, port: int | None = None) -> None:
        super().__init__(host, port)
        self._connection: Any = None
        self._channel: Any = None

    def url(self, *, port: int | None = None, **options: str | int) -> str:
        query = self._query({"queue": self.name}, options)
        return f"amqp://guest:guest@{self.host}:{port or self.port}/?{query}"

    async def _open(self) -> Any:
        stale = self._channel is None or self._channel.is_closed  # a restarted broker's
        if self._connection is None or self._connection.is_closed or stale:
            if self._connection is not None and not self._connection.is_closed:
                await self._connection.close()
            self._connection = await aio_pika.connect(
                f"amqp://guest:guest@{self.host}:{self.port}/"
            )
            self._channel = await self._connection.channel()
            await self._channel.declare_queue(self.name, durable=True)
        return self._channel

    async def publish(self, bodies: Sequence[bytes]) -> None:
        channel = await self._open()  # publisher confirms: stored before this returns
        for start in range(0, len(bodies), 500):
            await asyncio.gather(
                *(
                    channel.default_exchange.publish(
                        aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                        routing_key=self.name,
                    )
                    for body in bodies[start : start + 500]
                )
            )

    async def unacknowledged(self) -> int:
        """Ready messages; unacked ones count only once their consumer's channel closed."""
        channel = await self._open()
        queue = await channel.declare_queue(self.name, durable=True, passive=True)
        return int(queue.declaration_result.message_count or 0)

    async def cleanup(self) -> None:
        try:
            channel = await self._open()
            await channel.queue_delete(self.name)
        finally:
            if self._connection is not None:
                await self._connection.close()


BROKERS: dict[str, type[Broker]] = {
    "nats": NatsBroker,
    "redis": RedisBroker,
    "rabbitmq": RabbitBroker,
}


class PrivateServer:
    """A broker process of this test's own, on a free port, with its data in a temp dir:
    ``restart()`` stops it gracefully and starts it again on the same port and data.

    RabbitMQ is a node of its own (``legato-test-PORT@localhost``, its own config, data, logs
    and Erlang distribution port); Debian's ``rabbitmq-server`` runs it as the ``rabbitmq``
    user, so its folder is given to that user, and it is stopped with ``rabbitmqctl stop``
    (the wrapper's processes do not pass a signal on to the node)."""

    def __init__(self, kind: str, data: Path, processes: Processes) -> None:
        self.kind = kind
        self.data = data
        self.port = free_port()
        self.processes = processes
        self.proc: subprocess.Popen[bytes] | None = None
        self.node = f"legato-test-{self.port}@localhost"
        data.mkdir(parents=True, exist_ok=True)
        if kind == "rabbitmq":
            self._rabbitmq_folder()

    def _rabbitmq_folder(self) -> None:
        if os.geteuid() != 0:
            why = "a private RabbitMQ node needs root (rabbitmq-server runs it as 'rabbitmq')"
            if REQUIRED:
                pytest.fail(f"{why} (LEGATO_REQUIRE_SERVICES=1)")
            pytest.skip(
                reason=f"{why}; run the tests as root to restart a RabbitMQ node mid-stream "
                "(LEGATO_REQUIRE_SERVICES=1 makes this a failure, as in CI)"
            )
        (self.data / "mnesia").mkdir(exist_ok=True)
        (self.data / "log").mkdir(exist_ok=True)
        (self.data / "rabbitmq.conf").write_text(f"listeners.tcp.local = {HOST}:{self.port}\n")
        (self.data / "enabled_plugins").write_text("[].\n")
        # the node's user must reach its folder: pytest's tmp_path parents are root's alone
        for folder in [*reversed(self.data.parents), self.data]:
            if str(folder).startswith(tempfile.gettempdir() + "/"):
                folder.chmod(folder.stat().st_mode | 0o711)
        subprocess.run(["chown", "-R", "rabbitmq:rabbitmq", str(self.data)], check=True)

    def args(self) -> list[str]:
        if self.kind == "nats":
            binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
            return [binary, "-a", HOST, "-p", str(self.port), "-js", "-sd", str(self.data)]
        if self.kind == "rabbitmq":
            return [shutil.which("rabbitmq-server") or "/usr/sbin/rabbitmq-server"]
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        return [binary, "--bind", HOST, "--port", str(self.port), "--save", "", "--appendonly",
                "yes", "--appendfsync", "always", "--dir", str(self.data)]  # fmt: skip

    def env(self) -> dict[str, str] | None:
        if self.kind != "rabbitmq":
            return None
        return {
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(free_port()),
            "RABBITMQ_CONFIG_FILE": str(self.data / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.data / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(self.data / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.data / "log"),
            "RABBITMQ_FEATURE_FLAGS_FILE": str(self.data / "feature_flags"),
        }

    async def start(self) -> None:
        self.proc = self.processes.spawn(f"{self.kind}-server", self.args(), env=self.env())
        for _ in range(600):  # bounded: 60 s (a RabbitMQ node takes seconds)
            if self.proc.poll() is not None:
                pytest.fail(f"{self.kind} server exited:\n{self.processes.log_of(self.proc)}")
            if reachable(self.port):
                return
            await asyncio.sleep(0.1)
        pytest.fail(f"{self.kind} server never listened:\n{self.processes.log_of(self.proc)}")

    async def stop(self) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        if self.kind == "rabbitmq":
            await asyncio.to_thread(
                subprocess.run, ["rabbitmqctl", "-n", self.node, "stop"], capture_output=True,
                timeout=60, check=False,
            )  # fmt: skip
        else:
            proc.send_signal(signal.SIGTERM)
        for _ in range(300):
            if proc.poll() is not None and not reachable(self.port):
                return
            await asyncio.sleep(0.1)
        proc.kill()
        proc.wait()

    async def restart(self) -> None:
        await self.stop()
        await self.start()
