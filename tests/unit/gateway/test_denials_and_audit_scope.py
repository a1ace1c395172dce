"""The gateway's side of the audit: denials handed to the recorder, the user's own-actions scope.

Faked: the auth, audit and billing RPC proxies, the call-context dependency and the denial
recorder are nameko `worker_factory` mocks; requests are werkzeug test requests, not HTTP.
What is under test: which requests become `access.denied` events (401, 403, and a service's
refusal of an attempt to break isolation), with which fields, and which filters reach the audit
service for each role.
"""

import json

import pytest
from nameko.testing.services import worker_factory
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from gateway.denials import denial_event
from gateway.service import GatewayService
from shared.errors import Forbidden, RemoteScsError, Unauthenticated

PRINCIPAL = {"user_id": "u1", "username": "ann", "is_cloud_admin": False, "token_id": "t1"}


def _request(path, token="scs_x", query=None, method="GET", body=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    builder = EnvironBuilder(
        method=method,
        path=path,
        headers=headers,
        query_string=query,
        data=json.dumps(body) if body is not None else None,
        content_type="application/json",
        environ_overrides={"REMOTE_ADDR": "127.0.0.7"},
    )
    request = Request(builder.get_environ())
    request.environ["scs.request_id"] = "rid-1"
    return request


@pytest.fixture
def gateway():
    service = worker_factory(GatewayService)
    service.auth.authenticate.return_value = PRINCIPAL
    service.auth.authorize.return_value = {"allowed": True, "role": "project_admin"}
    service.audit.search.return_value = {"items": [], "total": 0, "limit": 50, "offset": 0}
    return service


def _recorded(gateway):
    gateway.denials.record.assert_called_once()
    return gateway.denials.record.call_args.args[0]


def test_a_forbidden_request_becomes_an_access_denied_event(gateway):
    gateway.auth.authorize.side_effect = Forbidden("no")
    with pytest.raises(Forbidden):
        gateway.get_project_usage(_request("/api/v1/projects/p9/billing/usage"), project_id="p9")
    event = _recorded(gateway)
    assert event["type"] == "access.denied"
    assert event["actor"] == "u1" and event["project"] == "p9"
    assert event["data"] == {
        "method": "GET",
        "path": "/api/v1/projects/p9/billing/usage",
        "area": "billing",
        "action": "view",
        "source": "127.0.0.7",
        "request_id": "rid-1",
        "reason": "forbidden",
    }
    gateway.billing.usage.assert_not_called()


def test_an_unauthenticated_request_is_recorded_as_anonymous(gateway):
    with pytest.raises(Unauthenticated):
        gateway.list_all_audit(_request("/api/v1/audit", token=None))
    event = _recorded(gateway)
    assert event["actor"] == "anonymous" and event["project"] is None
    assert event["data"]["reason"] == "unauthenticated"


def test_allowed_requests_record_nothing(gateway):
    gateway.list_project_audit(_request("/api/v1/projects/p1/audit"), project_id="p1")
    gateway.denials.record.assert_not_called()


def test_a_failing_recorder_never_changes_the_answer(gateway):
    gateway.auth.authorize.side_effect = Forbidden("no")
    gateway.denials.record.side_effect = RuntimeError("queue broken")
    with pytest.raises(Forbidden):
        gateway.list_project_audit(_request("/api/v1/projects/p1/audit"), project_id="p1")


def test_an_ordinary_user_is_confined_to_their_own_actions(gateway):
    gateway.auth.authorize.return_value = {"allowed": True, "role": "user"}
    gateway.list_project_audit(_request("/api/v1/projects/p1/audit"), project_id="p1")
    filters = gateway.audit.search.call_args.args[0]
    assert filters["project_id"] == "p1" and filters["actor"] == "u1"
    with pytest.raises(Forbidden) as refused:
        gateway.list_project_audit(
            _request("/api/v1/projects/p1/audit", query={"actor": "u2"}), project_id="p1"
        )
    assert "actor" in refused.value.details["fields"]


def test_admins_may_filter_by_any_actor_within_the_project(gateway):
    gateway.list_project_audit(
        _request("/api/v1/projects/p1/audit", query={"actor": "u2", "type": "workload.*"}),
        project_id="p1",
    )
    filters = gateway.audit.search.call_args.args[0]
    assert filters == {
        "project_id": "p1",
        "actor": "u2",
        "type": "workload.*",
        "limit": 50,
        "offset": 0,
    }


def test_the_cluster_view_asks_for_all_projects(gateway):
    gateway.auth.authorize.return_value = {"allowed": True, "role": "cloud_admin"}
    gateway.list_all_audit(_request("/api/v1/audit", query={"cluster_only": "true"}))
    filters = gateway.audit.search.call_args.args[0]
    assert filters["all_projects"] is True and filters["cluster_only"] is True
    assert "project_id" not in filters


def test_denial_paths_are_clipped_in_the_resource_name():
    event = denial_event(
        method="GET",
        path="/" + "x" * 2000,
        area=None,
        action=None,
        source=None,
        request_id="r",
        reason="forbidden",
        actor=None,
        project_id=None,
    )
    assert len(event["resource"]["name"]) == 500


HOSTPATH = "spec.template.spec.volumes[0].hostPath"


def _refused(code, details, status="422"):
    # The gateway does not import the workload service's errors: they arrive as RemoteScsError.
    return RemoteScsError("refused", details, code, status)


def test_an_isolation_refusal_is_recorded_with_namespace_field_and_rule(gateway):
    gateway.workload.create_workload.side_effect = _refused(
        "isolation_violation",
        {
            "field": HOSTPATH,
            "rule": "host_path",
            "document": 0,
            "violations": [
                {"rule": "host_path", "field": HOSTPATH, "reason": "not allowed"},
                {"rule": "host_pid", "field": "spec.template.spec.hostPID", "reason": "no"},
            ],
        },
    )
    body = {"namespace": "vision-dev", "manifest": "kind: Deployment"}
    with pytest.raises(RemoteScsError):
        gateway.create_workload(
            _request("/api/v1/projects/p9/workloads", method="POST", body=body),
            project_id="p9",
        )

    event = _recorded(gateway)
    assert event["type"] == "access.denied"
    assert event["actor"] == "u1" and event["project"] == "p9"
    assert event["resource"]["namespace"] == "vision-dev"
    assert event["data"] == {
        "method": "POST",
        "path": "/api/v1/projects/p9/workloads",
        "area": "workloads",
        "action": "create",
        "source": "127.0.0.7",
        "request_id": "rid-1",
        "reason": "isolation_violation",
        "status": 422,
        "namespace": "vision-dev",
        "field": HOSTPATH,
        "rule": "host_path",
        "document": 0,
        "fields": [HOSTPATH, "spec.template.spec.hostPID"],
    }


def test_a_removed_api_version_in_an_edit_is_recorded_too(gateway):
    gateway.workload.edit_workload_yaml.side_effect = _refused(
        "api_version_removed",
        {"field": "apiVersion", "document": 0, "version": "extensions/v1beta1", "use": "apps/v1"},
    )
    with pytest.raises(RemoteScsError):
        gateway.edit_yaml(
            _request(
                "/api/v1/projects/p9/workloads/web/yaml",
                method="PUT",
                query={"namespace": "vision-dev"},
                body={"manifest": "apiVersion: extensions/v1beta1"},
            ),
            project_id="p9",
            name="web",
        )

    data = _recorded(gateway)["data"]
    assert data["reason"] == "api_version_removed" and data["namespace"] == "vision-dev"
    assert (data["field"], data["version"], data["use"]) == (
        "apiVersion",
        "extensions/v1beta1",
        "apps/v1",
    )


@pytest.mark.parametrize(
    ("code", "status"), [("quota_refused", "422"), ("invalid_manifest", "400")]
)
def test_other_refusals_of_a_service_are_not_denials(gateway, code, status):
    gateway.workload.create_workload.side_effect = _refused(code, {"field": "x"}, status)
    body = {"namespace": "vision-dev", "manifest": "kind: Deployment"}
    with pytest.raises(RemoteScsError):
        gateway.create_workload(
            _request("/api/v1/projects/p9/workloads", method="POST", body=body),
            project_id="p9",
        )
    gateway.denials.record.assert_not_called()


def test_a_namespace_of_another_project_is_recorded_as_a_denial(gateway):
    # The caller's own project authorised the request; the workload service found that the
    # namespace named in it belongs to another project (or to the platform): audited too.
    gateway.workload.delete_workload.side_effect = _refused(
        "namespace_not_in_project",
        {"field": "namespace", "namespace": "kube-system"},
        "403",
    )
    with pytest.raises(RemoteScsError):
        gateway.delete_workload(
            _request(
                "/api/v1/projects/p9/workloads/etcd",
                method="DELETE",
                query={"namespace": "kube-system"},
            ),
            project_id="p9",
            name="etcd",
        )

    event = _recorded(gateway)
    assert event["resource"]["namespace"] == "kube-system"
    assert event["data"]["reason"] == "namespace_not_in_project"
    assert (event["data"]["status"], event["data"]["field"]) == (403, "namespace")
