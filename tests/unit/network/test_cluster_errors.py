"""cluster.py of network and storage translate client failures into the services' errors.

Nothing is faked except the failing call itself (a function that raises what the kubernetes
client raises), so no cluster is needed.
"""

import pytest
import urllib3
from kubernetes.client.exceptions import ApiException

from services.network import cluster as network_cluster
from services.network import exceptions as network_errors
from services.storage import cluster as storage_cluster
from services.storage import exceptions as storage_errors


def _raiser(exc: BaseException):
    def call():
        raise exc

    return call


def _api(status: int) -> ApiException:
    exc = ApiException(status=status, reason="reason")
    exc.body = '{"message": "what the apiserver said"}'
    return exc


@pytest.mark.parametrize(
    ("module", "errors"),
    [(network_cluster, network_errors), (storage_cluster, storage_errors)],
)
def test_failures_become_typed_errors_with_the_cause_chained(module, errors) -> None:
    prefix = "Network" if module is network_cluster else "Storage"
    cases = [
        (_api(404), getattr(errors, f"{prefix}ObjectNotFound"), 404),
        (_api(409), getattr(errors, f"{prefix}ObjectExists"), 409),
        (_api(422), errors.ClusterRefused, 400),
        (_api(500), errors.ClusterUnavailable, 503),
        (
            urllib3.exceptions.MaxRetryError(None, "/api", "refused"),
            errors.ClusterUnavailable,
            503,
        ),
        (ConnectionRefusedError(), errors.ClusterUnavailable, 503),
    ]
    for raised, expected, status in cases:
        with pytest.raises(expected) as caught:
            module._translated(_raiser(raised), "Service a/b")
        assert caught.value.http_status == status
        assert caught.value.__cause__ is raised
    with pytest.raises(errors.ClusterRefused) as caught:
        module._translated(_raiser(_api(422)), "Service a/b")
    assert caught.value.details["reason"] == "what the apiserver said"


@pytest.mark.parametrize(
    "error",
    [
        network_errors.InvalidManifest("kind: no", {"fields": {"kind": ["no"]}, "n": 3}),
        storage_errors.ExpansionRefused("shrink", {"fields": {"size": ["grow only"]}}),
    ],
)
def test_errors_cross_rpc_with_code_status_and_json_details(error) -> None:
    from nameko.exceptions import deserialize, serialize

    again = deserialize(serialize(error))
    assert type(again) is type(error)
    assert (again.code, again.http_status, again.details) == (
        error.code,
        error.http_status,
        error.details,
    )
