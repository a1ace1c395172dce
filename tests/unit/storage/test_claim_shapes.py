"""Claims of the wrong shape are refused naming the field (pure functions, nothing faked)."""

from typing import Any

import pytest

from services.storage import claims
from services.storage.exceptions import InvalidClaim

CLAIM = {
    "apiVersion": "v1",
    "kind": "PersistentVolumeClaim",
    "metadata": {"name": "d"},
    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
}


@pytest.mark.parametrize(
    "spec, field",
    [
        ({"resources": "str"}, "spec.resources"),
        ({"resources": {"requests": 7}}, "spec.resources.requests"),
        ({"resources": {"requests": {"storage": []}}}, "spec.resources.requests.storage"),
        (
            {"resources": {"requests": {"storage": float("inf")}}},
            "spec.resources.requests.storage",
        ),
        ({"accessModes": "ReadWriteOnce"}, "spec.accessModes"),
        ({"storageClassName": 7}, "spec.storageClassName"),
        (None, "spec"),
    ],
)
def test_a_wrongly_typed_field_is_named(spec: Any, field: str) -> None:
    with pytest.raises(InvalidClaim) as caught:
        claims.checked_claim({**CLAIM, "spec": spec}, "ns", "p1")

    assert caught.value.http_status == 400
    assert list(caught.value.details["fields"]) == [field]


def test_labels_of_the_wrong_type_are_named() -> None:
    with pytest.raises(InvalidClaim) as caught:
        claims.checked_claim({**CLAIM, "metadata": {"name": "d", "labels": 7}}, "ns", "p1")

    assert list(caught.value.details["fields"]) == ["metadata.labels"]
