"""`scs` / `python -m cli`: parse, run one command, print errors as one line, exit with a code."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from cli import settings
from cli.client import Gateway
from cli.context import Context
from cli.errors import EXIT_NOT_LOGGED_IN, EXIT_REFUSED, CliError
from cli.parser import build_parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if getattr(args, "verbose", False) else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    gateway = Gateway(settings.server_url(getattr(args, "server", None)), settings.token())
    try:
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
    except (KeyError, TypeError) as exc:
        # An answer without the fields this client knows: a version mismatch, not a crash.
        sys.stderr.write(f"error: unexpected_answer: the gateway's answer lacks {exc}\n")
        return EXIT_REFUSED


if __name__ == "__main__":
    sys.exit(main())
