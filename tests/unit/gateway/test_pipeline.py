"""The gateway's request pipeline, one service method at a time.

Faked: the auth and quota RPC proxies and the call-context dependency are nameko
`worker_factory` mocks; requests are werkzeug test requests, not HTTP. The order of the
pipeline (authenticate, authorise, validate, call) is what is under test.
"""

import json

import pytest
from amqp.exceptions import NotAllowed
from kombu.exceptions import OperationalError
from nameko.exceptions import UnknownService
from nameko.testing.services import worker_factory
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from gateway.errors import ApiError, error_response
from gateway.routes.planned import _planned
from gateway.service import GatewayService
from shared.errors import (
    Forbidden,
    NotImplementedYet,
    RemoteScsError,
    Unauthenticated,
    ValidationFailed,
)

PRINCIPAL = {"user_id": "u1", "username": "ann", "is_cloud_admin": False, "token_id": "t1"}


def _request(method, path, body=None, token="scs_x", raw=None, query=None, source=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = raw if raw is not None else (json.dumps(body) if body is not None else None)
    builder = EnvironBuilder(
        method=method,
        path=path,
        data=data,
        headers=headers,
        query_string=query,
        content_type="application/json",
        environ_overrides={"REMOTE_ADDR": source} if source else None,
    )
    request = Request(builder.get_environ())
    request.environ["scs.request_id"] = "rid-1"
    return request


@pytest.fixture
def gateway():
    service = worker_factory(GatewayService)
    service.auth.authenticate.return_value = PRINCIPAL
    return service


def test_authorises_the_matrix_cell_for_the_path_project(gateway):
    gateway.quota.usage.return_value = {"project_id": "p1", "resources": {}}
    response = gateway.get_quota(_request("GET", "/api/v1/projects/p1/quota"), project_id="p1")
    assert response.status_code == 200
    gateway.auth.authorize.assert_called_once_with(
        "u1", "quota", "view", project_id="p1", department_id=None
    )
    gateway.call_context.set.assert_any_call(actor="u1")


def test_denied_callers_never_reach_validation_or_the_service(gateway):
    gateway.auth.authorize.side_effect = Forbidden("no")
    with pytest.raises(Forbidden):
        gateway.set_quota(
            _request("PUT", "/api/v1/projects/p1/quota", {"limits": {"cpu": "bad"}}),
            project_id="p1",
        )
    gateway.quota.set_limits.assert_not_called()


def test_missing_token_is_unauthenticated(gateway):
    with pytest.raises(Unauthenticated):
        gateway.whoami(_request("GET", "/api/v1/auth/whoami", token=None))
    gateway.auth.authenticate.assert_not_called()


def test_quantities_reach_the_service_as_exact_integers(gateway):
    gateway.quota.set_limits.return_value = {}
    gateway.set_quota(
        _request(
            "PUT",
            "/api/v1/projects/p1/quota",
            {"limits": {"cpu": "1500m", "memory": "1Gi", "count.pods": 10}},
        ),
        project_id="p1",
    )
    gateway.quota.set_limits.assert_called_once_with(
        "p1", {"cpu": 1500, "memory": 2**30, "count.pods": 10}, "u1"
    )


def test_unknown_fields_are_refused_with_their_name(gateway):
    with pytest.raises(ValidationFailed) as caught:
        gateway.create_department(
            _request("POST", "/api/v1/departments", {"name": "ok", "colour": "red"})
        )
    assert "colour" in caught.value.details["fields"]
    gateway.auth.create_department.assert_not_called()


def test_malformed_json_is_an_api_error(gateway):
    with pytest.raises(ApiError) as caught:
        gateway.create_department(_request("POST", "/api/v1/departments", raw="{oops"))
    assert caught.value.http_status == 400
    assert caught.value.code == "malformed_json"


def test_the_department_scope_comes_from_the_body(gateway):
    gateway.auth.create_project.return_value = {"id": "p9"}
    gateway.create_project(
        _request("POST", "/api/v1/projects", {"name": "web", "department_id": "d1"})
    )
    gateway.auth.authorize.assert_called_once_with(
        "u1", "tenancy", "create_project", project_id=None, department_id="d1"
    )


def test_network_settings_are_authorised_then_handed_to_the_workload_service(gateway):
    settings = {"service": {"type": "LoadBalancer", "ports": [{"port": 80}]}, "ingress": None}
    gateway.workload.set_network_settings.return_value = {"workload": "web", "service": {}}
    response = gateway.set_network_settings(
        _request(
            "PUT",
            "/api/v1/projects/p1/workloads/web/network",
            settings,
            query={"namespace": "vision-dev"},
        ),
        project_id="p1",
        name="web",
    )
    assert response.status_code == 200
    gateway.auth.authorize.assert_called_once_with(
        "u1", "workloads", "network_settings", project_id="p1", department_id=None
    )
    gateway.workload.set_network_settings.assert_called_once_with(
        "p1", "vision-dev", "web", settings, actor="u1"
    )


def test_network_settings_name_an_unknown_top_level_field(gateway):
    with pytest.raises(ValidationFailed) as caught:
        gateway.set_network_settings(
            _request(
                "PUT",
                "/api/v1/projects/p1/workloads/web/network",
                {"service": None, "ports": [80]},
                query={"namespace": "vision-dev"},
            ),
            project_id="p1",
            name="web",
        )
    assert "ports" in caught.value.details["fields"]
    gateway.workload.set_network_settings.assert_not_called()


def test_a_planned_route_answers_not_implemented():
    # No row is planned today; the generator stays for the next endpoint the matrix names.
    handler = _planned("workloads", "example")
    with pytest.raises(NotImplementedYet) as caught:
        handler(None, None)
    assert caught.value.details == {"area": "workloads", "action": "example"}


def test_login_hands_the_client_address_to_auth(gateway):
    gateway.auth.login.return_value = {"token": "scs_t", "token_id": "t", "expires_at": "x"}
    body = {"username": "ann", "password": "pw"}
    request = _request("POST", "/api/v1/auth/login", body, token=None, source="192.0.2.7")

    response = gateway.login(request)

    assert response.status_code == 201
    gateway.auth.login.assert_called_once_with("ann", "pw", None, source="192.0.2.7")


def test_a_lockout_from_another_process_answers_429_with_retry_after():
    # The gateway does not import the auth service's errors: they arrive as RemoteScsError.
    locked = RemoteScsError(
        "too many failed logins; try again in 42 seconds",
        {"field": "username", "retry_after_seconds": 42},
        "too_many_attempts",
        "429",
    )
    response = error_response(locked, "rid-1")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "42"
    assert json.loads(response.get_data()) == {
        "code": "too_many_attempts",
        "message": "too many failed logins; try again in 42 seconds",
        "details": {"field": "username", "retry_after_seconds": 42},
    }
    assert "Retry-After" not in error_response(Forbidden("no"), "rid-2").headers


@pytest.mark.parametrize(
    "failure",
    [
        NotAllowed("NOT_ALLOWED - vhost newuser not found"),
        OperationalError("[Errno 111] Connection refused"),
        ConnectionResetError("reset by peer"),
        UnknownService("quota"),
    ],
    ids=["vhost-missing", "broker-down", "connection-reset", "service-absent"],
)
def test_a_bus_or_service_failure_is_a_503_not_a_500(failure):
    response = error_response(failure, "rid-9")
    body = json.loads(response.get_data())
    assert response.status_code == 503
    assert body["code"] in ("bus_unavailable", "service_unavailable")
    assert body["details"] == {"request_id": "rid-9"}  # no broker address or vhost leaks
