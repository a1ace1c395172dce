"""The gateway's answers to requests no route takes, and what it echoes (gateway/server.py).

Nothing is faked: a werkzeug routing map of the same kind nameko builds matches werkzeug test
requests, and its routing exceptions are turned into answers. The same answers over real HTTP
are in tests/interface/gateway/test_http_contract.py.
"""

import json

import pytest
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from gateway.server import _header_name, request_id_of, unrouted_response

MAP = Map(
    [
        Rule("/api/v1/users", methods=["GET"]),
        Rule("/api/v1/users", methods=["POST"]),
        Rule("/api/v1/terminal", methods=["GET"], websocket=True),
        Rule("/docs/", methods=["GET"]),
    ]
)


def _answer(method, path, headers=None):
    environ = EnvironBuilder(method=method, path=path, headers=headers).get_environ()
    with pytest.raises(HTTPException) as routed:
        MAP.bind_to_environ(environ).match()
    return unrouted_response(Request(environ), routed.value)


def _body(response):
    return json.loads(response.get_data())


def test_an_unknown_path_is_json_404_echoing_the_request_id():
    response = _answer("GET", "/nothing", {"X-Request-Id": "rid-7"})
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert _body(response) == {
        "code": "not_found",
        "message": "no endpoint GET /nothing",
        "details": {"path": "/nothing"},
    }
    assert response.headers["X-Request-Id"] == "rid-7"


def test_a_long_path_is_clipped_in_the_answer():
    body = _body(_answer("GET", "/" + "x" * 5000))
    assert len(body["details"]["path"]) == 256


def test_a_wrong_method_is_405_naming_the_allowed_ones():
    response = _answer("DELETE", "/api/v1/users")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS, POST"
    assert _body(response)["details"] == {
        "method": "DELETE",
        "path": "/api/v1/users",
        "allowed": ["GET", "HEAD", "OPTIONS", "POST"],
    }


def test_options_on_a_known_path_is_204_with_allow_and_no_cors():
    response = _answer("OPTIONS", "/api/v1/users")
    assert response.status_code == 204
    assert response.get_data() == b""
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS, POST"
    assert not [name for name in response.headers.keys() if name.startswith("Access-Control")]


def test_a_plain_request_to_a_websocket_only_path_is_json():
    response = _answer("GET", "/api/v1/terminal")
    assert response.status_code == 400
    assert _body(response)["code"] == "bad_request"


def test_a_missing_trailing_slash_redirects_in_json():
    response = _answer("GET", "/docs")
    assert response.status_code == 308
    assert response.headers["Location"].endswith("/docs/")
    assert _body(response)["code"] == "moved_permanently"


@pytest.mark.parametrize("sent", ["", "has space", "x" * 65, "a/b"])
def test_an_insane_request_id_is_replaced(sent):
    environ = EnvironBuilder(path="/", headers={"X-Request-Id": sent}).get_environ()
    made = request_id_of(Request(environ))
    assert made != sent and len(made) == 32


@pytest.mark.parametrize(
    ("line", "name"),
    [
        (b"Authorization: Bearer scs_aaaa", "Authorization"),
        (b"X-Filler-1:" + b"f" * 60, "X-Filler-1"),
        (b"<script>: x", None),
        (b"no colon at all", None),
        (b"A" * 65 + b": x", None),
    ],
)
def test_only_a_well_formed_header_name_is_echoed(line, name):
    assert _header_name(line) == name
