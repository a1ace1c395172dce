"""Table, JSON and YAML rendering, and the error line. Nothing faked: pure functions."""

from __future__ import annotations

import json
from typing import Any

import yaml

from cli.errors import CliError, exit_code_for_status, from_answer, offending_field
from cli.render import cell, details, key, show, table
from cli.reports import usage_rows
from cli.resources import COLUMNS


def test_table_aligns_columns_under_upper_case_headers() -> None:
    rows: list[dict[str, Any]] = [
        {"name": "web", "replicas": 3},
        {"name": "database-primary", "replicas": None},
    ]
    text = table(rows, [("name", key("name")), ("replicas", key("replicas"))])
    assert text.splitlines() == [
        "NAME               REPLICAS",
        "web                3",
        "database-primary   -",
    ]


def test_empty_table_says_so() -> None:
    assert table([], COLUMNS["pods"]) == "No resources found."


def test_cells_of_nested_values() -> None:
    assert cell(True) == "yes"
    assert cell({"a": 1, "b": None}) == "a=1,b=-"
    assert cell(["x", "y"]) == "x,y"
    assert key("load_balancer", "address")({"load_balancer": None}) is None


def test_json_and_yaml_give_the_whole_answer() -> None:
    data = {"items": [{"name": "web"}], "total": 1}
    assert json.loads(show(data, "json", [], [])) == data
    assert yaml.safe_load(show(data, "yaml", [], [])) == data


def test_details_aligns_labels() -> None:
    assert details([("Name", "web"), ("Replicas", 2)]) == "Name:      web\nReplicas:  2"


def test_exit_codes_by_status() -> None:
    assert [exit_code_for_status(s) for s in (400, 401, 403, 404, 409, 422, 500, 503)] == [
        1, 3, 4, 1, 1, 1, 5, 5,
    ]  # fmt: skip


def test_error_line_names_code_message_and_field() -> None:
    body = {
        "code": "quota_exceeded",
        "message": "cpu over the limit",
        "details": {"fields": {"spec": {"replicas": ["too many"]}}},
    }
    error = from_answer(422, body)
    assert error.exit_code == 1
    assert error.line() == "error: quota_exceeded: cpu over the limit (field: spec.replicas)"


def test_field_from_details_field_and_multi_line_message_on_one_line() -> None:
    assert offending_field({"field": "spec.template.spec.hostNetwork"}) == (
        "spec.template.spec.hostNetwork"
    )
    assert offending_field({"fields": {"b": ["x"], "a": ["y"]}}) == "a, b"
    assert CliError(1, "c", "two\nlines").line() == "error: c: two lines"


def test_server_error_shows_request_id_and_non_json_answer_is_named() -> None:
    body = {"code": "internal_error", "message": "internal error", "details": {"request_id": "r1"}}
    error = from_answer(500, body)
    assert (error.exit_code, error.code) == (5, "internal_error")
    assert "request id r1" in error.message
    assert from_answer(502, "<html>Bad gateway</html>").line() == (
        "error: http_502: HTTP 502: <html>Bad gateway</html>"
    )


def test_usage_rows_flatten_metrics() -> None:
    usage = {
        "project_id": "p",
        "cpu_core_seconds": {"requested": 10.0, "overhead": 2.5},
        "gpu_seconds": {"Tesla-T4": 60},
    }
    assert usage_rows(usage) == [
        {"metric": "cpu_core_seconds", "part": "overhead", "value": 2.5},
        {"metric": "cpu_core_seconds", "part": "requested", "value": 10.0},
        {"metric": "gpu_seconds", "part": "Tesla-T4", "value": 60},
    ]
