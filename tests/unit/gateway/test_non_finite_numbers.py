"""NaN and Infinity never reach a service: the JSON reader refuses the literals, and a quota
quantity that is not finite (as YAML or a float could carry it) is refused naming its field.

Faked: the auth and quota RPC proxies (nameko `worker_factory` mocks); requests are werkzeug
test requests.
"""

import pytest
from nameko.testing.services import worker_factory
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from gateway.errors import ApiError
from gateway.schemas import SetQuotaSchema
from gateway.service import GatewayService
from shared.errors import ValidationFailed
from shared.schemas import load

PRINCIPAL = {"user_id": "u1", "username": "ann", "is_cloud_admin": False, "token_id": "t1"}


@pytest.fixture
def gateway():
    service = worker_factory(GatewayService)
    service.auth.authenticate.return_value = PRINCIPAL
    return service


def _put_quota(raw: str) -> Request:
    builder = EnvironBuilder(
        method="PUT",
        path="/api/v1/projects/p1/quota",
        data=raw,
        headers={"Authorization": "Bearer scs_x"},
        content_type="application/json",
    )
    request = Request(builder.get_environ())
    request.environ["scs.request_id"] = "rid-1"
    return request


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_literals_are_malformed_json(gateway, literal):
    with pytest.raises(ApiError) as caught:
        gateway.set_quota(_put_quota(f'{{"limits": {{"cpu": {literal}}}}}'), project_id="p1")

    assert caught.value.http_status == 400
    assert caught.value.code == "malformed_json"
    assert literal in caught.value.message
    gateway.quota.set_limits.assert_not_called()


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "NaN", "Infinity", "1e999999999"])
def test_a_non_finite_quota_quantity_names_its_field(value):
    with pytest.raises(ValidationFailed) as caught:
        load(SetQuotaSchema(), {"limits": {"cpu": value, "memory": "1Gi"}})

    assert caught.value.http_status == 400
    assert set(caught.value.details["fields"]) == {"limits.cpu"}
