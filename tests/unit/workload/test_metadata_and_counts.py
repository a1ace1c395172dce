"""Finalizers, owner references, pod overhead and absurd counts are refused before any RPC.

Pure functions and the create/edit entry points. Faked: for the create, `Deps` holds no
database, cluster, quota or owners at all (None), so a refusal that came after any of them
was used would fail with an AttributeError instead; for the YAML edit, the `World` of
test_gpu_replacement (SQLite database; faked cluster, quota and gpu service).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from services.workload import admission, creation, editing, isolation, preflight
from services.workload.deps import Deps
from services.workload.exceptions import InvalidManifest, IsolationViolation
from services.workload.manifests import read_documents
from tests.unit.workload.test_gpu_replacement import NS, PROJECT, World, _workload

DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web"},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "app", "image": "nginx"}]},
        },
    },
}
CRONJOB: dict[str, Any] = {
    "apiVersion": "batch/v1",
    "kind": "CronJob",
    "metadata": {"name": "nightly"},
    "spec": {
        "schedule": "0 3 * * *",
        "jobTemplate": {
            "spec": {
                "template": {
                    "spec": {
                        "restartPolicy": "Never",
                        "containers": [{"name": "c", "image": "busybox"}],
                    }
                }
            }
        },
    },
}
OWNER = [{"apiVersion": "v1", "kind": "ConfigMap", "name": "anchor", "uid": "1234"}]
NEVER = ["example.com/never"]


def _set(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    body = copy.deepcopy(body)
    node = body
    keys = path.split(".")
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    node[keys[-1]] = value
    return body


@pytest.mark.parametrize(
    "base, path, value, rule",
    [
        (DEPLOYMENT, "metadata.finalizers", NEVER, "finalizers"),
        (DEPLOYMENT, "spec.template.metadata.finalizers", NEVER, "finalizers"),
        (DEPLOYMENT, "metadata.ownerReferences", OWNER, "owner_references"),
        (DEPLOYMENT, "spec.template.metadata.ownerReferences", OWNER, "owner_references"),
        (CRONJOB, "metadata.finalizers", NEVER, "finalizers"),
        (CRONJOB, "spec.jobTemplate.metadata.finalizers", NEVER, "finalizers"),
        (CRONJOB, "spec.jobTemplate.metadata.ownerReferences", OWNER, "owner_references"),
        (
            CRONJOB,
            "spec.jobTemplate.spec.template.metadata.ownerReferences",
            OWNER,
            "owner_references",
        ),
        (DEPLOYMENT, "spec.template.spec.overhead", {"cpu": "1m"}, "pod_overhead"),
        (CRONJOB, "spec.jobTemplate.spec.template.spec.overhead", {"cpu": "1m"}, "pod_overhead"),
    ],
)
def test_a_workload_may_not_set_finalizers_owners_or_overhead(
    base: dict, path: str, value: Any, rule: str
) -> None:
    with pytest.raises(IsolationViolation) as caught:
        isolation.check(_set(base, path, value), 0)

    assert caught.value.http_status == 422
    assert caught.value.code == "isolation_violation"
    assert caught.value.details["field"] == path
    assert caught.value.details["rule"] == rule
    assert path in caught.value.message


def test_empty_lists_pass_and_pods_are_not_checked() -> None:
    isolation.check(_set(DEPLOYMENT, "metadata.finalizers", []))
    pod = {
        "kind": "Pod",
        "metadata": {"name": "p", "finalizers": NEVER, "ownerReferences": OWNER},
        "spec": {
            "runtimeClassName": "kata",
            "overhead": {"cpu": "250m"},
            "containers": [{"name": "c", "image": "x"}],
        },
    }
    # a Pod carries them from its controller and its RuntimeClass
    assert isolation.violations(pod) == []


def _stream(*bodies: dict[str, Any]) -> str:
    return yaml.safe_dump_all(list(bodies))


SERVICE: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "web"},
    "spec": {"ports": [{"port": 80}]},
}
HPA: dict[str, Any] = {
    "apiVersion": "autoscaling/v2",
    "kind": "HorizontalPodAutoscaler",
    "metadata": {"name": "web"},
    "spec": {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
        "minReplicas": 1,
        "maxReplicas": 5,
    },
}
NOTHING = Deps(db=None, cluster=None, quota=None, owners={})  # type: ignore[arg-type]


def _create(*bodies: dict[str, Any]) -> None:
    creation.create(NOTHING, PROJECT, NS, read_documents(_stream(*bodies)), "t")


@pytest.mark.parametrize(
    "companion, field, rule",
    [
        (_set(SERVICE, "metadata.finalizers", NEVER), "metadata.finalizers", "finalizers"),
        (
            _set(HPA, "metadata.ownerReferences", OWNER),
            "metadata.ownerReferences",
            "owner_references",
        ),
    ],
)
def test_companions_may_not_carry_finalizers_or_owners(
    companion: dict, field: str, rule: str
) -> None:
    with pytest.raises(IsolationViolation) as caught:
        _create(DEPLOYMENT, companion)

    assert caught.value.details["field"] == field
    assert caught.value.details["rule"] == rule
    assert caught.value.details["document"] == 1


def test_a_create_with_a_finalizer_is_refused_before_any_rpc() -> None:
    with pytest.raises(IsolationViolation) as caught:
        _create(_set(DEPLOYMENT, "metadata.finalizers", NEVER))
    assert caught.value.details["field"] == "metadata.finalizers"


JOB: dict[str, Any] = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "metadata": {"name": "pi"},
    "spec": {
        "template": {
            "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "x"}]}
        }
    },
}


@pytest.mark.parametrize(
    "body, path, value",
    [
        (DEPLOYMENT, "spec.replicas", 10**20),
        (DEPLOYMENT, "spec.replicas", 1001),
        (_set(DEPLOYMENT, "kind", "StatefulSet"), "spec.replicas", 2**62),
        (JOB, "spec.parallelism", 10**20),
        (JOB, "spec.completions", 100_001),
        (CRONJOB, "spec.jobTemplate.spec.parallelism", 5000),
        (CRONJOB, "spec.jobTemplate.spec.completions", 10**12),
        (HPA, "spec.maxReplicas", 10**20),
    ],
)
def test_absurd_counts_are_refused_naming_the_field_before_any_rpc(
    body: dict, path: str, value: int
) -> None:
    bodies = [DEPLOYMENT, _set(body, path, value)] if body is HPA else [_set(body, path, value)]

    with pytest.raises(InvalidManifest) as caught:
        _create(*bodies)

    assert caught.value.http_status == 400
    assert caught.value.code == "invalid_manifest"
    assert caught.value.details["field"] == path
    assert caught.value.details["maximum"] in (1000, 100_000)
    assert "4611686018427387903" not in caught.value.message


def test_counts_at_the_bounds_pass() -> None:
    preflight.check_counts(_set(DEPLOYMENT, "spec.replicas", 1000))
    preflight.check_counts(_set(JOB, "spec.completions", 100_000))
    # wrong types are the structural check's (manifests.py), not this one's
    preflight.check_counts(_set(DEPLOYMENT, "spec.replicas", "3"))


def test_a_yaml_edit_is_held_to_the_same_bounds_and_rules(workload_db: Any) -> None:
    world = World(workload_db)
    world.add(_workload("train", gpus=0))
    edited = _workload("train", gpus=0)
    for key in ("uid", "namespace"):
        edited["metadata"].pop(key)

    with pytest.raises(InvalidManifest) as caught:
        editing.edit_yaml(
            world.deps,
            PROJECT,
            NS,
            "train",
            yaml.safe_dump(_set(edited, "spec.replicas", 10**20)),
            "t",
        )
    assert caught.value.details["field"] == "spec.replicas"

    with pytest.raises(IsolationViolation) as refused:
        manifest = yaml.safe_dump(_set(edited, "spec.template.metadata.finalizers", NEVER))
        editing.edit_yaml(world.deps, PROJECT, NS, "train", manifest, "t")
    assert refused.value.details["field"] == "spec.template.metadata.finalizers"
    world.assert_unchanged("train")


def test_the_policy_renders_the_new_rules_for_workloads_only() -> None:
    rules = {rule.name: rule for rule in isolation.RULES}
    finalizers = admission.expression(rules["finalizers"])
    owners = admission.expression(rules["owner_references"])
    overhead = admission.expression(rules["pod_overhead"])

    for expression in (finalizers, owners, overhead):
        assert expression.startswith("object.kind == 'Pod' || ")
    # the garbage collector's own finalizers pass while it deletes
    assert "['foregroundDeletion', 'orphan']" in finalizers
    # a CronJob's Jobs (its controller's, run-now's) carry it as their owner
    assert "object.kind == 'Job'" in owners and "['CronJob']" in owners
    # what an object carried already may stay on an update
    assert "oldObject.metadata.finalizers" in finalizers
    assert "variables.meta.ownerReferences" in owners
    assert "spec.jobTemplate.metadata.finalizers" in finalizers
    message = admission.message_expression(rules["finalizers"])
    assert "metadata.finalizers" in message
