"""Kubernetes names on the command line: checked before any request, as a usage error.

Every object this CLI names in a path (a workload, pod, Service, claim, namespace, node) has a
Kubernetes name, so anything else (`../users`, `web?namespace=x`, `web#x`) is refused here,
naming the argument; cli/client.py's `api_path` encodes whatever is sent anyway.
"""

from __future__ import annotations

import re

from cli.errors import EXIT_USAGE, CliError

# DNS-1123: a label (namespaces, Services) and a subdomain (most other objects).
LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_PART = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
SUBDOMAIN = re.compile(rf"^{_PART}(\.{_PART})*$")
MAX_SUBDOMAIN = 253

LABEL_RULE = "at most 63 lowercase letters, digits and '-'"
SUBDOMAIN_RULE = "at most 253 lowercase letters, digits, '-' and '.'"


def label(value: str, what: str, field: str) -> str:
    """`value` if it is a DNS-1123 label, else a usage error naming `field`."""
    if not LABEL.match(value):
        raise _refused(value, what, field, LABEL_RULE)
    return value


def subdomain(value: str, what: str, field: str) -> str:
    """`value` if it is a DNS-1123 subdomain, else a usage error naming `field`."""
    if len(value) > MAX_SUBDOMAIN or not SUBDOMAIN.match(value):
        raise _refused(value, what, field, SUBDOMAIN_RULE)
    return value


def _refused(value: str, what: str, field: str, rule: str) -> CliError:
    return CliError(
        EXIT_USAGE,
        "usage",
        f"{value!r} is not a {what} name ({rule}; a letter or digit first and last)",
        field,
    )
