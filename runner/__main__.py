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

    runner = ServiceRunner(nameko_config())
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


if __name__ == "__main__":
    main()
