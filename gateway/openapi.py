"""The OpenAPI 3 document, generated from the `route` table and its marshmallow schemas."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from gateway.api import ROUTES

ERROR = {
    "type": "object",
    "required": ["code", "message", "details"],
    "properties": {
        "code": {"type": "string"},
        "message": {"type": "string"},
        "details": {"type": "object"},
    },
}


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


@cache
def openapi_document() -> dict[str, Any]:
    spec = APISpec(
        title="Secure Container Service",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
    )
    spec.components.schema("Error", ERROR)
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    paths: dict[str, dict[str, Any]] = {}
    for r in ROUTES:
        path = _openapi_path(r.path)
        operation: dict[str, Any] = {
            "summary": r.summary,
            "tags": [r.tag],
            "parameters": [
                {"in": "path", "name": name, "required": True, "schema": {"type": "string"}}
                for name in re.findall(r"\{([a-z_]+)\}", path)
            ],
            "responses": {
                str(r.status): {
                    "description": "success",
                    **(
                        {"content": {"application/json": {"schema": r.response}}}
                        if r.response
                        else {}
                    ),
                },
                "default": {
                    "description": "error",
                    "content": {"application/json": {"schema": "Error"}},
                },
            },
        }
        if r.area:
            operation["x-permission"] = {"area": r.area, "action": r.action}
        if not r.public:
            operation["security"] = [{"bearer": []}]
        if r.query is not None:
            operation["parameters"].append({"in": "query", "schema": r.query})
        if r.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": r.body}},
            }
        paths.setdefault(path, {})[r.method.lower()] = operation
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()
