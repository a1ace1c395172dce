"""Errors of the billing service; each is registered so RPC callers receive it typed."""

from __future__ import annotations

from shared.errors import ScsError, ValidationFailed, registered


@registered
class BillingError(ScsError):
    code = "billing_error"


@registered
class InvalidPeriod(BillingError, ValidationFailed):
    """The period is malformed or its end is not after its start (details name the field)."""

    code = "invalid_period"


@registered
class InvalidRate(BillingError, ValidationFailed):
    code = "invalid_rate"
