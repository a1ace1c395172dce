"""Tenants cannot create Secrets that make the cluster mint credentials (nothing faked)."""

import pytest

from services.config import objects
from shared.errors import ValidationFailed


def test_a_service_account_token_secret_from_the_form_is_refused():
    with pytest.raises(ValidationFailed) as refused:
        objects.build(
            "Secret",
            "ns",
            "satok",
            {"a": "b"},
            {},
            secret_type="kubernetes.io/service-account-token",
        )
    assert "secret_type" in str(refused.value.details)


def test_a_service_account_token_secret_in_yaml_is_refused():
    manifest = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "satok",
            "annotations": {"kubernetes.io/service-account.name": "default"},
        },
        "type": "kubernetes.io/service-account-token",
    }
    with pytest.raises(ValidationFailed) as refused:
        objects.from_manifest(manifest, "ns")
    assert "type" in str(refused.value.details)


def test_ordinary_secret_types_are_kept():
    body = objects.build(
        "Secret",
        "ns",
        "tls",
        {"tls.crt": "x", "tls.key": "y"},
        {},
        secret_type="kubernetes.io/tls",
    )
    assert body["type"] == "kubernetes.io/tls"
