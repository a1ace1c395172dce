"""The `rpc` entrypoint decorator of the suite: nameko's, with the suite's errors expected.

An `ScsError` raised by an RPC method is an answer (a refusal the caller maps to 4xx), not a
fault: nameko then logs it as a WARNING instead of an ERROR with a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nameko.rpc import Rpc

from shared.errors import ScsError


def rpc(fn: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
    """Use as `@rpc` or `@rpc(sensitive_arguments=...)`, like nameko's own."""
    kwargs.setdefault("expected_exceptions", (ScsError,))
    if fn is None:
        return Rpc.decorator(**kwargs)
    return Rpc.decorator(**kwargs)(fn)
