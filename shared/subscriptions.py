"""nameko event handlers that survive the broker going away between the work and the ack.

nameko 2.14's consumer acknowledges a message after its worker finished and ignores AMQP
connection errors there, but not socket errors: when RabbitMQ restarts at that moment,
`ConnectionResetError` escapes the worker thread and nameko kills the whole container. Found
by the broker-restart test (tests/interface/pipeline/test_broker_restart.py).

`event_handler` here is nameko's, with that one difference: a message that cannot be
acknowledged is left to the broker, which delivers it again once the consumer has reconnected
(the handler is idempotent, as every handler of the bus must be).
"""

from __future__ import annotations

import logging
from typing import Any

from amqp.exceptions import ConnectionError as AmqpConnectionError
from nameko.events import EventHandler

logger = logging.getLogger(__name__)


class ReliableEventHandler(EventHandler):  # type: ignore[misc]
    def handle_message_processed(
        self, message: Any, result: Any = None, exc_info: Any = None
    ) -> None:
        try:
            super().handle_message_processed(message, result, exc_info)
        except (OSError, AmqpConnectionError) as exc:
            logger.warning(
                "could not settle a message of %s (%s); the broker delivers it again",
                self.method_name,
                exc,
            )


event_handler = ReliableEventHandler.decorator
