"""The gateway's side of the audit: denials handed to the recorder, the user's own-actions scope.

Faked: the auth, audit and billing RPC proxies, the call-context dependency and the denial
recorder are nameko `worker_factory` mocks; requests are werkzeug test requests, not HTTP.
What is under test: which requests become `access.denied` events, with which fields, and which
filters reach the audit service for each role.
"""

import pytest
from nameko.testing.services import worker_factory
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from gateway.denials import denial_event
from gateway.service import GatewayService
from shared.errors import Forbidden, Unauthenticated

PRINCIPAL = {"user_id": "u1", "username": "ann", "is_cloud_admin": False, "token_id": "t1"}


def _request(path, token="scs_x", query=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    builder = EnvironBuilder(
        method="GET",
        path=path,
        headers=headers,
        query_string=query,
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
