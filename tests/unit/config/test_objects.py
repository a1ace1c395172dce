"""ConfigMap and Secret shaping, masking and validation (pure functions, no fakes)."""

import base64

import pytest

from services.config import objects
from services.config.exceptions import InvalidConfig, NotOwnedKind

VALUE = "s3cr3t-Value-42"
B64 = base64.b64encode(VALUE.encode()).decode()


def secret(**data: str) -> dict:
    return {
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": "db", "namespace": "ns", "uid": "u", "resourceVersion": "3"},
        "data": data,
    }


def test_a_secret_from_the_form_is_base64_encoded():
    body = objects.build("Secret", "ns", "db", {"password": VALUE}, {})
    assert body["data"] == {"password": B64} and body["type"] == "Opaque"


def test_secret_values_are_masked_unless_revealed():
    shown = objects.describe(secret(password=B64))
    assert shown["data"] == {"password": objects.MASK} and shown["keys"] == ["password"]
    assert VALUE not in str(shown) and B64 not in str(shown)
    revealed = objects.describe(secret(password=B64), reveal=True)
    assert revealed["data"] == {"password": VALUE} and revealed["revealed"] is True


def test_binary_secret_values_are_revealed_as_base64():
    raw = base64.b64encode(b"\xff\x00").decode()
    revealed = objects.describe(secret(blob=raw), reveal=True)
    assert revealed["binary_data"] == {"blob": raw}


def test_yaml_of_a_secret_is_masked_and_a_masked_edit_keeps_the_stored_value():
    text = objects.as_yaml(secret(password=B64, user=objects.encode("app")))
    assert VALUE not in text and B64 not in text and "resourceVersion" not in text
    edited = text.replace("user: '******'", "user: YWRtaW4=")
    body = objects.from_manifest(objects.parse_yaml(edited), "ns")
    body = objects.keep_masked(body, secret(password=B64, user=objects.encode("app")))
    assert body["data"] == {"password": B64, "user": "YWRtaW4="}


def test_string_data_is_folded_into_data():
    body = objects.from_manifest(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "db"},
            "stringData": {"password": VALUE},
        },
        "ns",
    )
    assert body["data"] == {"password": B64} and "stringData" not in body
    assert {VALUE, B64} <= objects.secret_values(body)


def test_bad_base64_is_refused_without_echoing_the_value():
    with pytest.raises(InvalidConfig) as caught:
        objects.from_manifest(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "db"},
                "data": {"password": VALUE + "!"},
            },
            "ns",
        )
    assert VALUE not in str(caught.value.to_dict())
    assert list(caught.value.details["fields"]) == ["data"]


def test_invalid_yaml_message_does_not_quote_the_document():
    with pytest.raises(InvalidConfig) as caught:
        objects.parse_yaml(f"stringData: {{password: '{VALUE}'\n")
    assert VALUE not in str(caught.value.to_dict())


@pytest.mark.parametrize(
    ("manifest", "field"),
    [
        ({"apiVersion": "apps/v1", "kind": "ConfigMap", "metadata": {"name": "a"}}, "apiVersion"),
        ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "A_b"}}, "metadata.name"),
        (
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "a", "namespace": "other"},
            },
            "metadata.namespace",
        ),
        (
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "a"},
                "data": {"bad key": "x"},
            },
            "data",
        ),
        (
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"n": 1}},
            "data",
        ),
    ],
)
def test_bad_manifests_name_the_field(manifest, field):
    with pytest.raises(InvalidConfig) as caught:
        objects.from_manifest(manifest, "ns")
    assert list(caught.value.details["fields"]) == [field]


def test_other_kinds_name_their_owner():
    with pytest.raises(NotOwnedKind) as caught:
        objects.check_kind("Service")
    assert caught.value.details["owner"] == "network"


def test_event_data_carries_keys_only():
    data = objects.event_data(secret(password=B64))
    assert data == {"kind": "Secret", "name": "db", "keys": ["password"]}
