"""An event source's URL: Legato's options taken out of it, defaults, the driver's own query
parameters passed on, clear errors that never show a password."""

from __future__ import annotations

import pytest

from legato.adapters.bus import open_source
from legato.adapters.bus.nats import NatsSource
from legato.adapters.bus.rabbitmq import RabbitMqSource
from legato.adapters.bus.redis_streams import RedisStreamSource
from legato.adapters.bus.source import SourceUrl, redact
from legato.errors import ConfigurationError


def test_nats_options_and_defaults() -> None:
    source = open_source("nats://u:p@127.0.0.1:4222?stream=S&subjects=a.>,b.*&batch=50")
    assert isinstance(source, NatsSource)
    assert (source.stream, source.subjects, source.durable) == ("S", ["a.>", "b.*"], "legato")
    assert (source.batch_size, source.wait_seconds, source.ack_wait) == (50, 1.0, 30.0)
    assert source.via == "nats:a.>,b.*"
    assert source.source.driver_url == "nats://u:p@127.0.0.1:4222"
    assert "p@" not in source.describe()


def test_redis_passes_its_own_query_parameters_on() -> None:
    source = open_source("redis://127.0.0.1:6379/2?stream=s&socket_timeout=5&claim_idle_ms=10")
    assert isinstance(source, RedisStreamSource)
    assert (source.stream, source.group, source.field) == ("s", "legato", b"event")
    assert source.claim_idle_ms == 10
    assert source.source.driver_url == "redis://127.0.0.1:6379/2?socket_timeout=5"
    assert source.via == "redis:s"


def test_rabbitmq_prefetch_follows_the_batch() -> None:
    source = open_source("amqp://guest:guest@127.0.0.1:5672/vh?queue=q&batch=10&heartbeat=30")
    assert isinstance(source, RabbitMqSource)
    assert (source.queue, source.batch_size, source.prefetch) == ("q", 10, 40)
    assert source.source.driver_url == "amqp://guest:guest@127.0.0.1:5672/vh?heartbeat=30"
    assert source.via == "rabbitmq:q"


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("kafka://127.0.0.1:9092", "unknown scheme"),
        ("nats://127.0.0.1:4222?stream=S&colour=blue", "unknown option colour"),
        ("redis://127.0.0.1:6379/0?batch=0", "batch must be an integer >= 1, not '0'"),
        ("amqp://guest:secret@127.0.0.1:5672/?batch=many", "not 'many'"),
        ("redis://127.0.0.1:6379/0?stream=", "stream is empty"),
    ],
)
def test_a_bad_url_says_what_is_wrong(url: str, said: str) -> None:
    with pytest.raises(ConfigurationError, match=said) as caught:
        open_source(url)
    assert "secret" not in str(caught.value)


def test_redact_hides_only_the_password() -> None:
    assert redact("amqp://guest:pw@h:5672/?queue=q") == "amqp://guest:***@h:5672/?queue=q"
    assert redact("nats://h:4222") == "nats://h:4222"


def test_parse_keeps_blank_driver_values() -> None:
    parsed = SourceUrl.parse("redis://h/0?stream=s&password=", ["stream"], driver_query=True)
    assert parsed.options == {"stream": "s"}
    assert parsed.driver_url == "redis://h/0?password="
