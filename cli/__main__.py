"""`scs` / `python -m cli`: parse, run one command, print errors as one line, exit with a code."""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any

from cli import settings
from cli.client import Gateway
from cli.context import Context
from cli.errors import EXIT_NOT_LOGGED_IN, EXIT_REFUSED, EXIT_USAGE, CliError
from cli.parser import build_parser

# A reader that went away (`scs get pods | head -1`): end quietly with the status a shell
# reports for a program killed by SIGPIPE, as kubectl does (128 + 13).
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if getattr(args, "verbose", False) else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        gateway = Gateway(_server(args), settings.token())
        if args.needs_login and not gateway.token:
            raise CliError(
                EXIT_NOT_LOGGED_IN, "not_logged_in", "not logged in: run `scs login` first"
            )
        return int(args.handler(Context(args, gateway)))
    except CliError as exc:
        sys.stderr.write(exc.line() + "\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        return 130
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except (KeyError, TypeError) as exc:
        # An answer without the fields this client knows: a version mismatch, not a crash.
        sys.stderr.write(f"error: unexpected_answer: the gateway's answer lacks {exc}\n")
        return EXIT_REFUSED


def _server(args: Any) -> str:
    try:
        return settings.server_url(getattr(args, "server", None))
    except ValueError as exc:
        raise CliError(EXIT_USAGE, "usage", str(exc), "server") from exc


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush finds no broken pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # not a real file (a test's capture): nothing to flush
        pass


if __name__ == "__main__":
    sys.exit(main())
