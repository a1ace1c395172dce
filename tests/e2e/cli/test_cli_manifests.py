"""`scs apply -f` of the shared input manifests, then `get pods`, `get quota`, `delete`
(see conftest.py: the whole suite and the local cluster are real)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.cli.conftest import INPUTS
from tests.interface.cli.conftest import Scs

pytestmark = pytest.mark.e2e


def wait_until(what: str, check: Callable[[], Any], timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(1)
    return result


def pods(scs: Scs, namespace: str) -> list[dict[str, Any]]:
    result = scs("get", "pods", "-n", namespace, "-o", "json")
    assert result.code == 0, result.err
    return list(json.loads(result.out)["items"])


def quota(scs: Scs) -> dict[str, Any]:
    result = scs("get", "quota", "-o", "json")
    assert result.code == 0, result.err
    return dict(json.loads(result.out)["resources"])


def test_guestbook_apply_get_and_delete(
    admin_cli: Scs, user_cli: Scs, namespace: str, tenant: dict[str, str]
) -> None:
    result = user_cli("apply", "-f", str(INPUTS / "guestbook-all-in-one.yaml"), "-n", namespace,
                      "--wait", "--timeout", "120")  # fmt: skip
    assert result.code == 0, result.err
    created = sorted(result.out.split())
    assert created.count("created") == 6
    assert "deployment/frontend" in created and "service/frontend" in created
    assert "complete" in result.err  # the rollout progress display

    running = wait_until(
        "six guestbook pods Running",
        lambda: (
            (p := pods(user_cli, namespace))
            and all(x["phase"] == "Running" for x in p)
            and len(p) == 6
            and p
        ),
    )
    assert {p["workload"] for p in running} == {"redis-master", "redis-replica", "frontend"}
    table = user_cli("get", "pods", "-n", namespace).out.splitlines()
    assert table[0].split()[:4] == ["NAMESPACE", "WORKLOAD", "NAME", "PHASE"] and len(table) == 7

    used = quota(user_cli)
    assert used["count.pods"]["used"] == 6
    assert used["cpu"]["requested"] == 600 and used["cpu"]["overhead"] == 6 * 250
    services = user_cli("get", "services", "-n", namespace).out
    assert {"frontend", "redis-master", "redis-replica"} <= set(services.split())

    described = user_cli("describe", "workload", "frontend", "-n", namespace).out
    assert "Pods:" in described and "Revisions:" in described and "state=complete" in described
    logs = user_cli("logs", running[0]["name"], "-n", namespace, "--tail", "5")
    assert logs.code == 0 and logs.out.strip(), logs.err  # the local cluster's emulated log

    for name in ("frontend", "redis-replica", "redis-master"):
        result = user_cli("delete", "workload", name, "-n", namespace)
        assert (result.code, result.out) == (0, f"workload/{name} deleted\n"), result.err
        assert user_cli("delete", "service", name, "-n", namespace).code == 0
    # with no limit set, a resource nobody uses any more is not listed at all
    assert quota(user_cli).get("count.pods", {"used": 0})["used"] == 0
    assert user_cli("get", "workloads", "-n", namespace).out.strip() == "No resources found."

    # the trail: the member's own audit records; the bill (read by an admin: billing is not
    # an ordinary member's right) counts the pods' time
    def audited() -> list[dict[str, Any]]:
        result = user_cli("audit", "--type", "workload.created", "-o", "json")
        names = {r["resource"]["name"] for r in json.loads(result.out)["items"]}
        return names >= {"frontend", "redis-master", "redis-replica"} and names  # type: ignore[return-value]

    wait_until("three workload.created audit records", audited, timeout=30)

    def billed() -> float:
        result = admin_cli("usage", "-p", tenant["project"], "-o", "json")
        assert result.code == 0, result.err
        usage = json.loads(result.out)
        return float(usage["cpu_core_seconds"]["requested"])

    assert wait_until("CPU-seconds billed for the guestbook pods", billed, timeout=30) > 0
    assert user_cli("usage").code == 4  # and refused to the member, in one line


def test_job_pi_runs_to_completion(user_cli: Scs, namespace: str) -> None:
    result = user_cli("apply", "-f", str(INPUTS / "job-pi.yaml"), "-n", namespace, "--wait",
                      "--timeout", "120")  # fmt: skip
    assert result.code == 0, result.err
    assert result.out == "job/pi created\n"
    assert "job/pi: complete" in result.err

    (pod,) = pods(user_cli, namespace)
    assert pod["workload"] == "pi" and pod["phase"] == "Succeeded"
    described = user_cli("describe", "workload", "pi", "-n", namespace).out
    assert "Rollout:" in described and "state=complete" in described
    assert user_cli("delete", "workload", "pi", "-n", namespace).code == 0


def test_error_paths_against_the_cluster(
    admin_cli: Scs, user_cli: Scs, namespace: str, tenant: dict[str, str]
) -> None:
    # unknown workload
    result = user_cli("describe", "workload", "nope", "-n", namespace)
    assert result.code == 1 and result.err.count("\n") == 1
    assert result.err.startswith("error: workload_not_found: ")

    # quota exceeded: two pods allowed, the guestbook's frontend alone wants three
    project = ("-p", tenant["project"])
    assert admin_cli("set-quota", "count.pods=2", *project).code == 0
    try:
        result = user_cli("apply", "-f", str(INPUTS / "guestbook-all-in-one.yaml"), "-n",
                          namespace)  # fmt: skip
        assert result.code == 1, result.out
        assert result.err.startswith("error: quota_exceeded: ") and result.err.count("\n") == 1
        assert user_cli("get", "workloads", "-n", namespace).out.strip() == "No resources found."
    finally:
        admin_cli("set-quota", "count.pods=1000", *project)

    # no permission: a plain member may not delete the project's namespace
    result = user_cli("delete", "namespace", namespace)
    assert result.code == 4 and result.err.startswith("error: forbidden: ")


@pytest.mark.parametrize(
    "manifest",
    ["php-apache-hpa.yaml", "web-statefulset.yaml", "wordpress-lb-pvc.yaml",
     "vllm-gpu-deployment.yaml"],
)  # fmt: skip
def test_other_shared_manifests_reach_steady_state(
    user_cli: Scs, namespace: str, manifest: str
) -> None:
    result = user_cli("apply", "-f", str(INPUTS / manifest), "-n", namespace, "--wait",
                      "--timeout", "120")  # fmt: skip
    assert result.code == 0, result.err
    assert "complete" in result.err

    running = wait_until(
        "every pod Running",
        lambda: (p := pods(user_cli, namespace)) and all(x["phase"] == "Running" for x in p) and p,
    )
    listed = json.loads(user_cli("get", "workloads", "-n", namespace, "-o", "json").out)
    # the ledger pays for what each workload may run (an HPA's maxReplicas included)
    paid = sum(record["quota_pods"] for record in listed["items"])
    assert quota(user_cli)["count.pods"]["used"] == paid >= len(running)
    for record in listed["items"]:
        assert user_cli("delete", "workload", record["name"], "-n", namespace).code == 0
    assert quota(user_cli).get("count.pods", {"used": 0})["used"] == 0


def test_reapplying_a_changed_manifest_configures_what_exists(
    user_cli: Scs, namespace: str, tmp_path: Any
) -> None:
    """As `kubectl apply`: the same file again, with another image, replaces the Deployment
    (a new revision, replicas kept), the Service and the HPA, and creates nothing twice."""
    original = (INPUTS / "php-apache-hpa.yaml").read_text()
    first = user_cli("apply", "-f", str(INPUTS / "php-apache-hpa.yaml"), "-n", namespace,
                     "--wait", "--timeout", "120")  # fmt: skip
    assert first.code == 0, first.err
    changed = tmp_path / "php-apache-v2.yaml"
    assert "image: registry.k8s.io/hpa-example\n" in original
    changed.write_text(original.replace("hpa-example\n", "hpa-example:v2\n", 1))

    again = user_cli("apply", "-f", str(changed), "-n", namespace, "--wait", "--timeout", "120")
    assert again.code == 0, again.err
    assert sorted(again.out.splitlines()) == [
        "deployment/php-apache configured",
        "horizontalpodautoscaler/php-apache configured",
        "service/php-apache configured",
    ]
    described = user_cli("describe", "workload", "php-apache", "-n", namespace, "-o", "json")
    record = json.loads(described.out)
    assert record["revision"] == 2
    assert [r["revision"] for r in record["revisions"]] == [1, 2]
    assert "registry.k8s.io/hpa-example:v2" in json.dumps(record["revisions"][-1])
    assert user_cli("delete", "workload", "php-apache", "-n", namespace).code == 0
