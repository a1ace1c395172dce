"""`scs demo` against the whole suite and the local cluster (see conftest.py: nothing faked).

The demo logs in as the bootstrapped cloud admin (SCS_ADMIN_USERNAME/SCS_ADMIN_PASSWORD),
creates its own department, project, namespace and two users, deploys examples/, plays a load
through the usage annotation until the real HPA scales out and back in, and reads the audit
trail and the bill; `--cleanup` deletes its namespace at the end.
"""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.interface.cli.conftest import REPO, Scs
from tests.interface.gateway.conftest import ADMIN, Client

pytestmark = pytest.mark.e2e


@pytest.fixture
def scs(client: Client, tmp_path: Path) -> Scs:
    return Scs(client.base, tmp_path / "scs-config")


def test_demo_plays_every_role_and_cleans_up(client: Client, scs: Scs) -> None:
    tag = uuid.uuid4().hex[:4]
    env = {**scs.env, "SCS_ADMIN_USERNAME": ADMIN[0], "SCS_ADMIN_PASSWORD": ADMIN[1]}
    done = subprocess.run(
        [sys.executable, "-m", "cli", "demo", "--tag", tag, "--cleanup", "--timeout", "180"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = done.stdout
    assert done.returncode == 0, (out, done.stderr)

    lines = [line for line in out.splitlines() if re.match(r"^  \+\s*\d+\.\d+s  ", line)]
    elapsed = [float(re.findall(r"\+\s*(\d+\.\d+)s", line)[0]) for line in lines]
    assert elapsed == sorted(elapsed)  # one timeline, in order

    for milestone in (
        f"created project shop-{tag}",
        f"namespace shop-{tag} ready",
        f"created user {tag}-lead and made them project admin",
        f"created user {tag}-dev and made them user",
        "deployment/storefront Running: 3/3 replicas ready",
        "statefulset/orders-db Running: 2/2 replicas ready",
        "job/sales-report complete: 6 pods succeeded",
        "job/recommender-training complete: 1 pods succeeded",
        "volumes bound: data-orders-db-0 2.0Gi high-performance",
        "catalog-api scaled 1 -> 4 (hpa",
        f"tried to delete namespace shop-{tag}: refused, forbidden",
        f"cleaned up: namespace shop-{tag} deleted",
    ):
        assert milestone in out, milestone
    assert re.search(
        rf"exposed catalog-api: service catalog-api [\d.]+:80 -> http, "
        rf"ingress http://api\.shop-{tag}\.example/",
        out,
    )
    # the address is the milestone; how many Ready pods are behind it by then varies
    assert re.search(r"service/storefront got address \d+\.\d+\.\d+\.\d+ \(\d+ pods", out)
    assert re.search(r"GPU job pod recommender-training-\S+ placed on node gpu-t4-\d", out)
    assert re.search(r"catalog-api scaled \d -> 1 \(hpa", out)  # and back in
    assert re.search(r"read the last \d+ log lines of storefront-", out)
    # the trail holds the scaling and the member's refused delete; the bill counts the pods
    assert re.search(r"\d+ x workload\.scaled", out) and "1 x access.denied" in out
    billed = re.search(r"billed since the start: (\d+\.\d) CPU core-seconds", out)
    assert billed and float(billed.group(1)) > 0, out

    admin = client.login(*ADMIN)
    projects = client.call("GET", "/api/v1/projects?limit=500", token=admin).body["items"]
    project = next(p for p in projects if p["name"] == f"shop-{tag}")
    gone = client.call(
        "GET", f"/api/v1/projects/{project['id']}/namespaces/shop-{tag}", token=admin
    )
    assert gone.status == 404 or gone.body.get("status") == "terminating", gone.body


def test_demo_without_admin_credentials_says_so_in_one_line(scs: Scs, tmp_path: Path) -> None:
    missing = tmp_path / "nothing-here"
    result = scs("demo", "--admin-credentials", str(missing))
    assert result.code == 2
    assert result.err.startswith("error: no_admin_credentials: cannot read ")
    assert result.err.count("\n") == 1
