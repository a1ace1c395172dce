"""Only the cluster-access module of the network and storage services imports `kubernetes`.

Reads the source of every module (nothing imported, nothing faked), as import-linter would.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3] / "services"


def _imports_kubernetes(path: Path) -> bool:
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(
            a.name.split(".")[0] == "kubernetes" for a in node.names
        ):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "kubernetes":
            return True
    return False


@pytest.mark.parametrize("service", ["network", "storage"])
def test_only_cluster_py_imports_kubernetes(service: str) -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / service).rglob("*.py"))
        if path.name != "cluster.py" and _imports_kubernetes(path)
    ]
    assert offenders == []
    assert _imports_kubernetes(ROOT / service / "cluster.py")
