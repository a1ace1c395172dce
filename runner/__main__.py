"""`python -m runner [service ...]`: migrate and run services and the gateway.

With no names every service and the gateway run in this one process (the embedded default of
`make run`); with names only those run, so a deployment can give each service its own process.
SIGINT or SIGTERM stops the containers gracefully.
"""

from __future__ import annotations

import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402

from amqp.exceptions import AccessRefused, NotAllowed  # noqa: E402
from kombu import Connection  # noqa: E402
from nameko.runners import ServiceRunner  # noqa: E402

from runner.embedded import SERVICES, service_class  # noqa: E402
from shared.config import Settings, nameko_config  # noqa: E402
from shared.db import MIGRATED_SERVICES, migrate  # noqa: E402
from shared.logging import setup_logging  # noqa: E402

logger = logging.getLogger("runner")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("services", nargs="*", metavar="SERVICE", help=", ".join(SERVICES))
    parser.add_argument("--no-migrate", action="store_true", help="skip database migrations")
    args = parser.parse_args()
    names = args.services or list(SERVICES)
    unknown = sorted(set(names) - set(SERVICES))
    if unknown:
        parser.error(f"unknown service(s): {', '.join(unknown)}; known: {', '.join(SERVICES)}")

    settings = Settings.from_env()
    setup_logging(settings.log_format, settings.log_level)
    if not args.no_migrate:
        for name in names:
            if name in MIGRATED_SERVICES:
                migrate(name)

    config = nameko_config()
    refused = broker_refusal(config["AMQP_URI"])
    if refused:
        logger.error("%s", refused)
        sys.exit(2)
    runner = ServiceRunner(config)
    for name in names:
        runner.add_service(service_class(name))

    stop_timeout = float(os.environ.get("SCS_STOP_TIMEOUT_SECONDS", "20"))

    def _exit() -> None:
        # nameko's consumers retry an absent broker for ever, even after a kill.
        logger.error("services still running after the kill: exiting")
        logging.shutdown()
        os._exit(1)

    def _kill() -> None:
        logger.warning("services did not stop within %.0f s: killing them", stop_timeout)
        eventlet.spawn_after(5, _exit)
        runner.kill()

    def _stop(signum: int, _frame: object) -> None:
        logger.info("signal %d: stopping", signum)
        # A graceful stop waits for running workers and watches; it must not wait for ever.
        eventlet.spawn_after(stop_timeout, _kill)
        eventlet.spawn(runner.stop)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    runner.start()
    logger.info(
        "running %s; gateway on http://%s:%d",
        ", ".join(names),
        settings.gateway_host,
        settings.gateway_port,
    )
    runner.wait()


def broker_refusal(amqp_uri: str) -> str | None:
    """Why the broker refuses us for good (a vhost that does not exist, wrong credentials), or
    None: a broker that does not answer yet is waited for by the services themselves."""
    connection = Connection(amqp_uri, connect_timeout=5)
    try:
        connection.connect()
    except (NotAllowed, AccessRefused) as exc:
        where = f"{connection.hostname}:{connection.port} vhost {connection.virtual_host!r}"
        return (
            f"the message broker at {where} refuses the connection ({exc.reply_text}): "
            "create the vhost or fix the credentials of SCS_AMQP_URI"
        )
    except Exception as exc:  # not reachable (yet): the services retry until it is
        logger.warning("message broker not reachable yet (%s); the services will retry", exc)
    finally:
        connection.release()
    return None


if __name__ == "__main__":
    main()
