"""Only a service's cluster-access module imports `kubernetes` (STYLE, checked by reading
the source: nothing is faked)."""

import ast
from pathlib import Path

import pytest

SERVICES = Path(__file__).resolve().parents[3] / "services"


def imports_kubernetes(path: Path) -> bool:
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(
            a.name.split(".")[0] == "kubernetes" for a in node.names
        ):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "kubernetes":
            return True
    return False


@pytest.mark.parametrize("service", ["cluster", "config", "quota"])
def test_only_cluster_py_imports_kubernetes(service):
    folder = SERVICES / service
    importing = sorted(
        str(p.relative_to(folder)) for p in folder.rglob("*.py") if imports_kubernetes(p)
    )
    assert importing == ["cluster.py"]
