"""The meter's acknowledgement rules, one message at a time.

Real: the SQLite database. Faked: the pika channel (a Mock that records ack and nack) and,
in one test, a database that fails; no broker is involved here (tests/interface/billing has
the real one).
"""

import json
from typing import Any
from unittest import mock

from sqlalchemy.exc import OperationalError

from services.billing import meter as meter_module
from services.billing.meter import Meter, pika_url
from shared.events import new_event


def _message() -> bytes:
    envelope = new_event(
        "volume.provisioned",
        actor="u1",
        project="pa",
        resource={"kind": "PersistentVolumeClaim", "namespace": "ns", "name": "d", "uid": "v"},
        data={"storage_class": "capacity", "size_bytes": 2**30},
    )
    return json.dumps(envelope).encode()


def _deliver(meter: Meter, body: bytes, tag: int = 1) -> mock.Mock:
    channel = mock.Mock()
    meter._on_message(channel, mock.Mock(delivery_tag=tag), None, body)
    return channel


def test_ack_after_commit_and_duplicates_are_acked_without_effect(billing_db: Any) -> None:
    meter = Meter("pyamqp://guest:guest@127.0.0.1:5672/", billing_db)
    body = _message()
    _deliver(meter, body).basic_ack.assert_called_once_with(1)
    _deliver(meter, body, 2).basic_ack.assert_called_once_with(2)
    assert (meter.applied, meter.duplicates) == (1, 1)


def test_a_database_failure_gives_the_message_back() -> None:
    broken = mock.Mock()
    broken.transaction.side_effect = OperationalError("BEGIN", {}, Exception("db down"))
    meter = Meter("pyamqp://guest:guest@127.0.0.1:5672/", broken)
    with mock.patch.object(meter_module.eventlet, "sleep"):
        channel = _deliver(meter, _message())
    channel.basic_nack.assert_called_once_with(1, requeue=True)
    channel.basic_ack.assert_not_called()


def test_a_message_that_is_not_json_is_acked_and_dropped(billing_db: Any) -> None:
    meter = Meter("pyamqp://guest:guest@127.0.0.1:5672/", billing_db)
    _deliver(meter, b"\x00not json").basic_ack.assert_called_once_with(1)
    assert meter.applied == 0


def test_kombu_uris_become_pika_uris_with_a_heartbeat() -> None:
    url = pika_url("pyamqp://guest:guest@127.0.0.1:5682/vh")
    assert url.startswith("amqp://guest:guest@127.0.0.1:5682/vh?heartbeat=30")
