"""Workload errors across RPC: typed where the class is known, code and status where not.

Nothing is faked: nameko's own serialise/deserialise functions are used.
"""

from nameko.exceptions import deserialize, serialize

from services.workload.exceptions import IsolationViolation
from shared.errors import ScsError


def test_an_isolation_violation_keeps_field_code_and_status() -> None:
    error = IsolationViolation("refused", {"field": "spec.template.spec.hostPID", "document": 0})

    known = deserialize(serialize(error))
    data = serialize(error)
    data["exc_path"] = "services.workload.exceptions.NotImportedHere"
    unknown = deserialize(data)

    for received in (known, unknown):
        assert isinstance(received, ScsError)
        assert received.code == "isolation_violation"
        assert received.http_status == 422
        assert received.details == {"field": "spec.template.spec.hostPID", "document": 0}
    assert isinstance(known, IsolationViolation)
