"""An attempt to break isolation, refused with 422, leaves one `denied` record in the audit.

Real: RabbitMQ (a fresh vhost), PostgreSQL (fresh databases), the auth, quota, workload, audit
and gateway containers and the HTTP server; nothing is mocked. The refusal happens before the
cluster is asked, so no cluster is needed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.interface.gateway.conftest import ADMIN, Client, running_suite, suite_config_of
from tests.interface.pipeline.support import wait_until
from tests.interface.workload.test_refusals import HOSTPATH

pytestmark = pytest.mark.interface

FIELD = "spec.template.spec.volumes[0].hostPath"


@pytest.fixture(scope="module")
def suite_config(amqp_vhost: str, postgres_admin_url: str) -> Iterator[dict[str, Any]]:
    with suite_config_of(
        amqp_vhost, postgres_admin_url, ["auth", "quota", "workload", "audit", "gateway"]
    ) as config:
        yield config


@pytest.fixture(scope="module")
def client(suite_config: dict[str, Any]) -> Iterator[Client]:
    with running_suite(["auth", "quota", "workload", "audit", "gateway"], suite_config) as client:
        yield client


def test_a_refused_hostpath_deployment_is_audited_once_naming_the_field(
    client: Client, tenant: dict[str, Any]
) -> None:
    project = tenant["project"]
    reply = client.call(
        "POST",
        f"/api/v1/projects/{project}/workloads",
        token=tenant["token"],
        json_body={"namespace": "vision-dev", "manifest": HOSTPATH},
        headers={"X-Request-Id": "hostpath-attempt-1"},
    )
    assert reply.status == 422 and reply.code == "isolation_violation", reply.body

    admin = client.login(*ADMIN)
    path = f"/api/v1/projects/{project}/audit"
    params = {"outcome": "denied", "type": "access.denied"}

    def denied() -> list[dict[str, Any]]:
        body = client.call("GET", path, token=admin, params=params).body
        return body["items"]  # type: ignore[no-any-return]

    wait_until(denied, 15, "the refusal in the audit")
    time.sleep(1)  # a second record (a duplicate publish) would have arrived by now
    records = denied()

    assert len(records) == 1, records
    record = records[0]
    assert record["outcome"] == "denied"
    assert record["request_id"] == "hostpath-attempt-1"
    assert record["resource"]["namespace"] == "vision-dev"
    assert record["data"]["reason"] == "isolation_violation"
    assert record["data"]["field"] == FIELD
    assert record["data"]["rule"] == "host_path"
    user = client.call("GET", "/api/v1/auth/whoami", token=tenant["token"]).body
    assert record["actor"] == user["user_id"]

    # The user sees the attempt among their own actions too, through `outcome=denied`.
    own = client.call("GET", path, token=tenant["token"], params={"outcome": "denied"}).body
    assert [item["event_id"] for item in own["items"]] == [record["event_id"]]
