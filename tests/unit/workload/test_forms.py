"""Form to manifest, through the service's own schema (pure functions, nothing faked)."""

import pytest

from services.workload import forms, isolation
from services.workload.manifests import read_documents
from services.workload.schemas import WorkloadFormSchema, load_payload
from shared.errors import ValidationFailed


def _form(**extra: object) -> dict:
    return load_payload(
        WorkloadFormSchema(), {"kind": "Deployment", "name": "web", "image": "nginx", **extra}
    )


def test_a_full_deployment_form() -> None:
    body = forms.to_manifest(
        _form(
            replicas=3,
            env={"MODE": "prod"},
            ports=[8080],
            resources={"requests": {"cpu": "250m", "memory": "128Mi"}, "limits": {"gpu": 1}},
            volumes=[{"name": "cache", "mount_path": "/cache", "size_limit": "1Gi"}],
            strategy={"max_surge": 1, "max_unavailable": "25%"},
            scheduling={"node_affinity": {"zone": ["a"]}, "tolerations": [{"key": "gpu"}]},
        )
    )
    spec = body["spec"]
    container = spec["template"]["spec"]["containers"][0]

    assert spec["replicas"] == 3
    assert spec["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": "25%"}
    assert container["env"] == [{"name": "MODE", "value": "prod"}]
    assert container["resources"]["limits"] == {"nvidia.com/gpu": "1"}
    assert spec["template"]["spec"]["volumes"] == [
        {"name": "cache", "emptyDir": {"sizeLimit": "1Gi"}}
    ]
    assert spec["template"]["spec"]["tolerations"] == [{"key": "gpu"}]
    isolation.check(body)
    assert read_documents([body])[0].kind == "Deployment"


@pytest.mark.parametrize("kind", ["StatefulSet", "DaemonSet", "Job"])
def test_other_kinds_make_readable_manifests(kind: str) -> None:
    body = forms.to_manifest(_form(kind=kind))
    assert read_documents([body])[0].kind == kind


def test_cronjob_needs_a_schedule() -> None:
    with pytest.raises(ValidationFailed) as caught:
        _form(kind="CronJob")
    assert "schedule" in caught.value.details["fields"]

    body = forms.to_manifest(_form(kind="CronJob", schedule="*/5 * * * *"))
    assert body["spec"]["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"] == "Never"


def test_unknown_form_fields_are_refused() -> None:
    with pytest.raises(ValidationFailed) as caught:
        _form(privileged=True)
    assert "privileged" in caught.value.details["fields"]
