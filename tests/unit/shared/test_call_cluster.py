"""call_cluster tells the caller's bad input (4xx) from an unreachable cluster (503), and its
unavailable answers carry no host, port or URL (those go to the WARNING log).

Faked: only the failing call itself, a function raising what the kubernetes client raises
(its pydantic validation error is produced by the real client, which refuses before sending).
"""

import logging
import socket

import pytest
import urllib3
from kubernetes import client
from kubernetes.client.exceptions import ApiException, ApiTypeError, ApiValueError

from shared.errors import Conflict, NotFound, Unavailable, Unprocessable
from shared.kube import ClusterErrors, call_cluster


class Missing(NotFound):
    pass


class Exists(Conflict):
    pass


class Refused(Unprocessable):
    pass


class Down(Unavailable):
    pass


ERRORS = ClusterErrors(not_found=Missing, exists=Exists, refused=Refused, unavailable=Down)


def _raiser(exc: BaseException):
    def call():
        raise exc

    return call


def _client_validation_error() -> Exception:
    configuration = client.Configuration()
    configuration.host = "http://127.0.0.1:9"  # never contacted: the client refuses first
    api = client.CoreV1Api(client.ApiClient(configuration))
    body = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a"}}
    body["spec"] = {"ports": [{"port": "str"}]}
    try:
        api.create_namespaced_service("ns", body)
    except ValueError as exc:
        return exc
    raise AssertionError("the client accepted a string port")


def _refused_connection() -> Exception:
    reason = urllib3.exceptions.NewConnectionError(
        None, "Failed to establish a new connection: [Errno 111] Connection refused"
    )
    return urllib3.exceptions.MaxRetryError(
        None, "/apis/apps/v1/namespaces/ns/deployments", reason
    )


def test_the_clients_own_validation_is_a_refusal_naming_the_field() -> None:
    raised = _client_validation_error()

    with pytest.raises(Refused) as caught:
        call_cluster(_raiser(raised), "Service ns/a", ERRORS, 5)

    assert caught.value.details["field"] == "spec.ports[0].port"
    assert "spec.ports[0].port" in caught.value.message
    assert 400 <= caught.value.http_status < 500
    assert caught.value.__cause__ is raised


@pytest.mark.parametrize("raised", [ApiValueError("missing body"), ApiTypeError("bad kwarg")])
def test_the_clients_argument_errors_are_refusals(raised: Exception) -> None:
    with pytest.raises(Refused):
        call_cluster(_raiser(raised), "Service ns/a", ERRORS, 5)


def test_an_apiserver_422_names_the_field_of_its_status() -> None:
    exc = ApiException(status=422, reason="Unprocessable Entity")
    exc.body = (
        '{"message": "Service \\"a\\" is invalid", '
        '"details": {"causes": [{"field": "spec.ports[0].port", "message": "bad"}]}}'
    )

    with pytest.raises(Refused) as caught:
        call_cluster(_raiser(exc), "Service ns/a", ERRORS, 5)

    assert caught.value.details["field"] == "spec.ports[0].port"


@pytest.mark.parametrize(
    ("raised", "reason"),
    [
        (_refused_connection(), "connection refused"),
        (ConnectionRefusedError(111, "Connection refused"), "connection refused"),
        (urllib3.exceptions.ReadTimeoutError(None, "/api", "read timed out"), "timed out"),
        (urllib3.exceptions.ProtocolError("Connection aborted."), "connection broken"),
        (socket.gaierror(-2, "Name or service not known"), "cluster address not resolved"),
        (ValueError("Expecting value: line 1 column 1"), "unreadable answer"),
    ],
)
def test_connection_failures_are_unavailable_without_internals(
    raised: Exception, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="shared.kube"):
        with pytest.raises(Down) as caught:
            call_cluster(_raiser(raised), "Deployment ns/web", ERRORS, 5)

    assert caught.value.http_status == 503
    assert caught.value.message == f"the cluster did not answer ({reason})"
    assert caught.value.details["reason"] == reason
    for internal in ("127.0.0.1", "/apis/", "Errno", "HTTPConnectionPool"):
        assert internal not in caught.value.message
        assert internal not in str(caught.value.details)
    assert "Deployment ns/web" in caplog.text


def test_an_apiserver_5xx_is_unavailable_with_its_status_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    exc = ApiException(status=503, reason="Service Unavailable")
    exc.body = '{"message": "etcdserver: leader changed at 10.0.0.4:2379"}'

    with caplog.at_level(logging.WARNING, logger="shared.kube"):
        with pytest.raises(Down) as caught:
            call_cluster(_raiser(exc), "Service ns/a", ERRORS, 5)

    assert caught.value.message == "the cluster could not serve the request (HTTP 503)"
    assert "10.0.0.4" not in str(caught.value.details)
    assert "leader changed" in caplog.text


def test_not_found_and_exists_keep_their_meaning() -> None:
    for status, expected in ((404, Missing), (409, Exists)):
        exc = ApiException(status=status, reason="r")
        with pytest.raises(expected):
            call_cluster(_raiser(exc), "Service ns/a", ERRORS, 5)
