"""Output: aligned tables by default, or the API's answer as JSON or YAML (`-o`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import yaml

Column = tuple[str, Callable[[dict[str, Any]], Any]]
FORMATS = ("table", "json", "yaml")


def key(*path: str) -> Callable[[dict[str, Any]], Any]:
    """A column getter following `path` through nested objects; missing parts give None."""

    def get(row: dict[str, Any]) -> Any:
        value: Any = row
        for part in path:
            value = value.get(part) if isinstance(value, dict) else None
        return value

    return get


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ",".join(f"{k}={cell(v)}" for k, v in value.items()) or "-"
    if isinstance(value, list):
        return ",".join(cell(v) for v in value) or "-"
    return str(value)


def table(rows: Sequence[dict[str, Any]], columns: Sequence[Column]) -> str:
    """Columns separated by three spaces, headers upper case; `No resources found.` if empty."""
    if not rows:
        return "No resources found."
    grid = [[header.upper() for header, _ in columns]]
    grid += [[cell(get(row)) for _, get in columns] for row in rows]
    widths = [max(len(line[i]) for line in grid) for i in range(len(columns))]
    lines = ["   ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)) for line in grid]
    return "\n".join(line.rstrip() for line in lines)


def structured(data: Any, output: str) -> str:
    if output == "json":
        return json.dumps(data, indent=2, sort_keys=True, default=str)
    return yaml.safe_dump(data, sort_keys=True, default_flow_style=False).rstrip()


def show(data: Any, output: str, rows: Sequence[dict[str, Any]], columns: Sequence[Column]) -> str:
    """`data` as JSON/YAML, or `rows` of it as a table."""
    if output == "table":
        return table(rows, columns)
    return structured(data, output)


def details(pairs: Sequence[tuple[str, Any]]) -> str:
    """`describe` output: `Label:  value` lines, labels aligned."""
    width = max(len(label) for label, _ in pairs) + 1
    return "\n".join(f"{(label + ':').ljust(width)}  {cell(value)}" for label, value in pairs)
