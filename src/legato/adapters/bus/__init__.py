"""Event sources: consumers of NATS JetStream, Redis Streams and RabbitMQ that hand each batch
of messages to ``ingest`` (``App.ingest_events``) and acknowledge it once recorded.

``open_source(url)`` picks the driver by the URL's scheme; each driver module (and its client
library) is imported only when a source of its kind is configured.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from legato.adapters.bus.source import EventSource, Ingest, redact
from legato.errors import ConfigurationError

SCHEMES = {
    "nats": "nats",
    "tls": "nats",
    "redis": "redis",
    "rediss": "redis",
    "amqp": "rabbitmq",
    "amqps": "rabbitmq",
}


def open_source(url: str) -> EventSource[Any]:
    """The consumer a URL names (not started); ``ConfigurationError`` for a URL it cannot
    use (unknown scheme or option, a bad number)."""
    kind = SCHEMES.get(urlsplit(url).scheme)
    if kind == "nats":
        from legato.adapters.bus.nats import NatsSource

        return NatsSource(url)
    if kind == "redis":
        from legato.adapters.bus.redis_streams import RedisStreamSource

        return RedisStreamSource(url)
    if kind == "rabbitmq":
        from legato.adapters.bus.rabbitmq import RabbitMqSource

        return RabbitMqSource(url)
    raise ConfigurationError(
        f"event source {redact(url)}: unknown scheme (nats://, redis://, rediss://, amqp://, "
        "amqps://)"
    )


__all__ = ["EventSource", "Ingest", "open_source"]
