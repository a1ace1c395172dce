"""The audit trail (audit service): tenant-scoped queries, exports, terminal transcripts.

Scope: in a project, members see that project's records only; an ordinary user (role `user`)
sees only the records of their own actions there (the `actor` filter is forced to them). The
cluster-wide routes (`/api/v1/audit...`) are the cloud admin's: every project and the records
of no project. Exports stream JSON lines or CSV, batch by batch, so their size is unbounded
while the gateway's memory is not.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from marshmallow import fields, validate
from werkzeug.wrappers import Response

from gateway.api import ApiCall, route
from shared.errors import Forbidden
from shared.schemas import PageQuerySchema

V1 = "/api/v1"
P = f"{V1}/projects/<project_id>"
USER_ROLE = "user"
CSV_COLUMNS = (
    "seq",
    "event_id",
    "type",
    "occurred_at",
    "recorded_at",
    "actor",
    "project_id",
    "resource_kind",
    "resource_namespace",
    "resource_name",
    "resource_uid",
    "outcome",
    "source",
    "request_id",
    "data",
)


class AuditQuerySchema(PageQuerySchema):
    since = fields.AwareDateTime()
    until = fields.AwareDateTime()
    actor = fields.String(validate=validate.Length(min=1, max=255))
    type = fields.String(validate=validate.Length(min=1, max=128))
    resource_kind = fields.String(validate=validate.Length(min=1, max=128))
    resource_name = fields.String(validate=validate.Length(min=1, max=506))
    resource_namespace = fields.String(validate=validate.Length(min=1, max=253))
    outcome = fields.String(validate=validate.OneOf(("success", "denied")))
    request_id = fields.String(validate=validate.Length(min=1, max=64))


class ClusterAuditQuerySchema(AuditQuerySchema):
    project_id = fields.String(validate=validate.Length(min=1, max=64))
    cluster_only = fields.Boolean()


class ExportQuerySchema(AuditQuerySchema):
    format = fields.String(load_default="jsonl", validate=validate.OneOf(("jsonl", "csv")))


class ClusterExportQuerySchema(ClusterAuditQuerySchema):
    format = fields.String(load_default="jsonl", validate=validate.OneOf(("jsonl", "csv")))


def _filters(call: ApiCall, project_id: str | None) -> dict[str, Any]:
    filters = {k: v for k, v in call.query.items() if k != "format"}
    for key in ("since", "until"):
        if key in filters:
            filters[key] = filters[key].isoformat()
    if project_id is None:
        filters["all_projects"] = True
        return filters

    filters["project_id"] = project_id
    if call.role == USER_ROLE:
        # Ordinary users see their own actions only (docs: services/audit/README.md).
        if filters.get("actor") not in (None, call.user_id):
            raise Forbidden(
                "users may read only the audit records of their own actions",
                {"fields": {"actor": ["must be your own user id"]}},
            )
        filters["actor"] = call.user_id
    return filters


def _csv_row(record: dict[str, Any]) -> list[str]:
    flat = {
        **record,
        "resource_kind": record["resource"]["kind"],
        "resource_namespace": record["resource"]["namespace"],
        "resource_name": record["resource"]["name"],
        "resource_uid": record["resource"]["uid"],
        "data": json.dumps(record["data"], sort_keys=True),
    }
    row = []
    for column in CSV_COLUMNS:
        value = "" if flat.get(column) is None else str(flat[column])
        # A leading = + - @ would be a formula in a spreadsheet; keep it text.
        row.append("'" + value if value[:1] in ("=", "+", "-", "@") else value)
    return row


def _lines(rpc: Any, filters: dict[str, Any], fmt: str) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if fmt == "csv":
        writer.writerow(CSV_COLUMNS)
    after = 0
    while True:
        batch = rpc.export_batch(filters, after)
        for record in batch["items"]:
            if fmt == "csv":
                writer.writerow(_csv_row(record))
            else:
                buffer.write(json.dumps(record, sort_keys=True) + "\n")
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
        if batch["next"] is None:
            return
        after = batch["next"]


def _export(rpc: Any, filters: dict[str, Any], fmt: str) -> Response:
    # The first batch is fetched here, so that a bad filter is a 4xx and not a broken stream.
    first = rpc.export_batch({**filters, "limit": 1}, 0)
    del first
    mimetype = "text/csv" if fmt == "csv" else "application/x-ndjson"
    response = Response(_lines(rpc, filters, fmt), mimetype=mimetype)
    response.headers["Content-Disposition"] = f"attachment; filename=audit.{fmt}"
    return response


class AuditRoutes:
    audit: Any  # RpcProxy("audit") on GatewayService

    @route(
        "GET",
        f"{P}/audit",
        summary="Audit records of the project (filters: time, actor, type, resource)",
        tag="audit",
        area="audit",
        action="view",
        query=AuditQuerySchema(),
    )
    def list_project_audit(self, call: ApiCall) -> Any:
        return self.audit.search(_filters(call, call.path["project_id"]))

    @route(
        "GET",
        f"{P}/audit/export",
        summary="Export the project's audit records as JSON lines or CSV (streamed)",
        tag="audit",
        area="audit",
        action="view",
        query=ExportQuerySchema(),
    )
    def export_project_audit(self, call: ApiCall) -> Any:
        filters = _filters(call, call.path["project_id"])
        return _export(self.audit, filters, call.query["format"])

    @route(
        "GET",
        f"{P}/audit/transcripts/<session_id>",
        summary="A terminal session's transcript",
        tag="audit",
        area="audit",
        action="view_transcript",
    )
    def get_transcript(self, call: ApiCall) -> Any:
        return self.audit.get_transcript(call.path["project_id"], call.path["session_id"])

    @route(
        "GET",
        f"{V1}/audit",
        summary="Audit records of every project and the cluster (cloud admin)",
        tag="audit",
        area="audit",
        action="view",
        query=ClusterAuditQuerySchema(),
    )
    def list_all_audit(self, call: ApiCall) -> Any:
        return self.audit.search(_filters(call, None))

    @route(
        "GET",
        f"{V1}/audit/export",
        summary="Export every audit record as JSON lines or CSV (cloud admin, streamed)",
        tag="audit",
        area="audit",
        action="view",
        query=ClusterExportQuerySchema(),
    )
    def export_all_audit(self, call: ApiCall) -> Any:
        return _export(self.audit, _filters(call, None), call.query["format"])
