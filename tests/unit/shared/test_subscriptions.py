"""ReliableEventHandler: a lost connection at ack time is logged, never raised.

Faked: the queue consumer (a Mock whose ack raises the socket error RabbitMQ's restart gave
in the broker-restart test) and the message; nothing else is involved.
"""

from unittest import mock

from shared.subscriptions import ReliableEventHandler


def _handler(error: Exception | None) -> ReliableEventHandler:
    handler = ReliableEventHandler("scs", "#")
    handler.method_name = "handle_event"
    handler.queue_consumer = mock.Mock()
    handler.queue_consumer.ack_message.side_effect = error
    handler.queue_consumer.requeue_message.side_effect = error
    return handler


def test_a_reset_connection_at_ack_time_is_left_to_the_broker() -> None:
    handler = _handler(ConnectionResetError(104, "Connection reset by peer"))
    handler.handle_message_processed(mock.Mock())
    handler.queue_consumer.ack_message.assert_called_once()


def test_requeue_on_error_still_requeues() -> None:
    handler = _handler(None)
    handler.requeue_on_error = True
    handler.handle_message_processed(mock.Mock(), exc_info=(ValueError, ValueError(), None))
    handler.queue_consumer.requeue_message.assert_called_once()
    handler.queue_consumer.ack_message.assert_not_called()
