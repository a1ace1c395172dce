"""ConfigMaps and Secrets as the platform accepts and shows them.

- Input: a form (`kind`, `name`, `data` as text values) or a manifest/YAML document, as the
  workload YAML carries it. A Secret's text values are base64-encoded here; `stringData` is
  folded into `data`, so the service always knows every value it writes (to redact them from
  any message).
- Output: ConfigMap values as they are. A Secret's values are masked (`MASK`) unless the
  caller may reveal them (the gateway decides: project, department and cloud admins with
  `?reveal=true`); keys are always shown.
- Editing: a Secret value sent back as `MASK` keeps the value stored in the cluster, so a
  masked YAML can be edited and re-applied without revealing anything.
- Events carry kind, names and keys only.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

import yaml

from services.config.exceptions import NotOwnedKind, invalid

KINDS = ("ConfigMap", "Secret")
OWNER_OF = {
    "Service": "network",
    "Ingress": "network",
    "PersistentVolumeClaim": "storage",
    "HorizontalPodAutoscaler": "workload",
}
MASK = "******"
_KEY = re.compile(r"^[-._a-zA-Z0-9]{1,253}$")
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_SERVER_FIELDS = ("uid", "resourceVersion", "creationTimestamp", "managedFields", "generation")


def check_kind(kind: Any) -> str:
    if kind in KINDS:
        return str(kind)
    owner = OWNER_OF.get(kind) if isinstance(kind, str) else None
    hint = f"; {kind} belongs to the {owner} service" if owner else ""
    raise NotOwnedKind(
        f"the config service manages ConfigMap and Secret only{hint}",
        {"kind": str(kind), "owner": owner},
    )


def check_name(name: Any, field: str = "name") -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise invalid(field, "must be a DNS-1123 subdomain (a-z, 0-9, '-', '.')")
    return name


def _check_keys(data: dict[str, Any], field: str) -> None:
    for key, value in data.items():
        if not isinstance(key, str) or not _KEY.match(key):
            raise invalid(field, f"key {key!r} must be 1-253 of a-z A-Z 0-9 - _ .")
        if not isinstance(value, str):
            raise invalid(field, f"the value of {key!r} must be a string")


def encode(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def build(
    kind: str,
    namespace: str,
    name: str,
    data: dict[str, str],
    labels: dict[str, str],
    secret_type: str = "Opaque",
) -> dict[str, Any]:
    """A manifest from the form: text values (a Secret's are base64-encoded here)."""
    check_kind(kind)
    check_name(name)
    _check_keys(data, "data")
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
    }
    if kind == "Secret":
        body["type"] = check_secret_type(secret_type, "secret_type")
        body["data"] = {
            key: (MASK if value == MASK else encode(value)) for key, value in data.items()
        }
    else:
        body["data"] = dict(data)
    return body


def parse_yaml(text: str) -> dict[str, Any]:
    try:
        docs = [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except yaml.YAMLError as exc:
        # The parser's message quotes the line; for a Secret that could be a value.
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise invalid("yaml", f"not valid YAML{where}") from None
    if len(docs) != 1 or not isinstance(docs[0], dict):
        raise invalid("yaml", "must hold exactly one object")
    return docs[0]


def from_manifest(manifest: dict[str, Any], namespace: str) -> dict[str, Any]:
    """A clean manifest to write: v1 ConfigMap or Secret in `namespace`, values checked."""
    kind = check_kind(manifest.get("kind"))
    if manifest.get("apiVersion") != "v1":
        raise invalid("apiVersion", "must be v1")
    meta = manifest.get("metadata")
    if not isinstance(meta, dict):
        raise invalid("metadata", "must be an object")
    name = check_name(meta.get("name"), "metadata.name")
    if meta.get("namespace") not in (None, namespace):
        raise invalid("metadata.namespace", "must be the namespace named in the request")
    labels = meta.get("labels") or {}
    annotations = meta.get("annotations") or {}
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": kind,
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": labels,
            "annotations": annotations,
        },
    }
    if kind == "Secret":
        body.update(_secret_content(manifest))
    else:
        body.update(_config_map_content(manifest))
    if manifest.get("immutable") is not None:
        body["immutable"] = bool(manifest["immutable"])
    return body


def _config_map_content(manifest: dict[str, Any]) -> dict[str, Any]:
    data = manifest.get("data") or {}
    binary = manifest.get("binaryData") or {}
    if not isinstance(data, dict) or not isinstance(binary, dict):
        raise invalid("data", "data and binaryData must be objects")
    _check_keys(data, "data")
    _check_keys(binary, "binaryData")
    for key, value in binary.items():
        _b64(value, "binaryData", key)
    return {"data": data, "binaryData": binary}


def _secret_content(manifest: dict[str, Any]) -> dict[str, Any]:
    data = manifest.get("data") or {}
    text = manifest.get("stringData") or {}
    if not isinstance(data, dict) or not isinstance(text, dict):
        raise invalid("data", "data and stringData must be objects")
    _check_keys(data, "data")
    _check_keys(text, "stringData")
    merged = {
        key: (MASK if value == MASK else _b64(value, "data", key)) for key, value in data.items()
    }
    merged.update({key: (MASK if value == MASK else encode(value)) for key, value in text.items()})
    return {"type": check_secret_type(manifest.get("type") or "Opaque", "type"), "data": merged}


# Secret types a tenant may not create: a service-account token Secret makes the cluster mint
# API credentials for a service account of the namespace.
FORBIDDEN_SECRET_TYPES = frozenset({"kubernetes.io/service-account-token"})


def check_secret_type(secret_type: Any, field: str) -> str:
    if not isinstance(secret_type, str) or secret_type in FORBIDDEN_SECRET_TYPES:
        raise invalid(field, f"Secrets of type {secret_type!r} cannot be created by tenants")
    return secret_type


def _b64(value: str, field: str, key: str) -> str:
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise invalid(field, f"the value of {key!r} is not base64") from None
    return value


def keep_masked(body: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
    """Replace MASK values of a Secret by the values stored in the cluster."""
    if body["kind"] != "Secret":
        return body
    stored = (current or {}).get("data") or {}
    for key, value in list(body.get("data", {}).items()):
        if value == MASK:
            if key not in stored:
                raise invalid("data", f"{key!r} is masked but has no stored value to keep")
            body["data"][key] = stored[key]
    return body


def secret_values(body: dict[str, Any]) -> set[str]:
    """Every form of every value of a Secret (base64 and decoded), for redaction."""
    if body.get("kind") != "Secret":
        return set()
    found: set[str] = set()
    for value in (body.get("data") or {}).values():
        found.add(value)
        try:
            found.add(base64.b64decode(value).decode())
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
    return {v for v in found if len(v) >= 3}


def keys_of(obj: dict[str, Any]) -> list[str]:
    return sorted(set(obj.get("data") or {}) | set(obj.get("binaryData") or {}))


def _reveal_values(data: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    text, binary = {}, {}
    for key, value in data.items():
        raw = base64.b64decode(value)
        try:
            text[key] = raw.decode()
        except UnicodeDecodeError:
            binary[key] = value
    return text, binary


def describe(obj: dict[str, Any], reveal: bool = False) -> dict[str, Any]:
    """What the API shows: a Secret's values masked unless `reveal`."""
    meta = obj.get("metadata") or {}
    kind = obj.get("kind") or ("Secret" if "type" in obj else "ConfigMap")
    data = obj.get("data") or {}
    binary = obj.get("binaryData") or {}
    if kind == "Secret":
        if reveal:
            data, binary = _reveal_values(data)
        else:
            data, binary = dict.fromkeys(data, MASK), {}
    answer = {
        "kind": kind,
        "namespace": meta.get("namespace"),
        "name": meta.get("name"),
        "uid": meta.get("uid"),
        "labels": meta.get("labels") or {},
        "keys": keys_of(obj),
        "data": data,
        "binary_data": binary,
        "revealed": bool(reveal and kind == "Secret"),
        "created_at": meta.get("creationTimestamp"),
        "resource_version": meta.get("resourceVersion"),
    }
    if kind == "Secret":
        answer["type"] = obj.get("type")
    return answer


def as_yaml(obj: dict[str, Any], reveal: bool = False) -> str:
    """The object as YAML for editing; a Secret's values are MASK unless `reveal`."""
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in _SERVER_FIELDS}
    kind = obj.get("kind") or ("Secret" if "type" in obj else "ConfigMap")
    clean: dict[str, Any] = {"apiVersion": "v1", "kind": kind, "metadata": meta}
    if kind == "Secret":
        clean["type"] = obj.get("type")
        data = obj.get("data") or {}
        clean["data"] = dict(data) if reveal else dict.fromkeys(data, MASK)
    else:
        for part in ("data", "binaryData"):
            if obj.get(part):
                clean[part] = obj[part]
    return yaml.safe_dump(clean, sort_keys=False)


def event_data(obj: dict[str, Any]) -> dict[str, Any]:
    """An event's data: names and keys, never a value."""
    return {"kind": obj["kind"], "name": obj["metadata"]["name"], "keys": keys_of(obj)}


def ref(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata") or {}
    return {
        "kind": obj.get("kind"),
        "namespace": meta.get("namespace"),
        "name": meta.get("name"),
        "uid": meta.get("uid"),
    }
