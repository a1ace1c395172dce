"""Errors of the audit service; each is registered so RPC callers receive it typed."""

from __future__ import annotations

from shared.errors import NotFound, ScsError, ValidationFailed, registered


@registered
class AuditError(ScsError):
    """Base of the audit service's errors."""

    code = "audit_error"


@registered
class InvalidAuditFilter(AuditError, ValidationFailed):
    """A query filter is malformed (details name the field)."""

    code = "invalid_audit_filter"


@registered
class TranscriptNotFound(AuditError, NotFound):
    code = "transcript_not_found"
