"""Checks of a request's documents that need neither the cluster nor another service.

Run on every document of a create (and on the document of a YAML edit) before any RPC:

- pod counts within the platform's bounds: `replicas` and `parallelism` (the pods paid for at
  once) at most MAX_REPLICAS, the limit of the scale endpoint and of the form; a Job's
  `completions` (run `parallelism` at a time, so not paid for at once) at most MAX_COMPLETIONS
  (100,000); an HPA's `minReplicas`/`maxReplicas` at most MAX_REPLICAS, as the autoscaling
  policy. Refused with 400 `invalid_manifest` naming the field, instead of an absurd count
  reaching the quota service's schema;
- documents that are not workloads (companions, HPAs) carry no finalizers or ownerReferences of
  their own (isolation rules `finalizers`, `owner_references`; workloads are checked with the
  rest of the isolation rules).

Values of the wrong type are left to the structural check of manifests.py.
"""

from __future__ import annotations

from typing import Any

from services.workload import isolation
from services.workload.exceptions import InvalidManifest
from services.workload.manifests import WORKLOAD, Document, dig
from services.workload.schemas import MAX_COMPLETIONS, MAX_REPLICAS

_JOB = ("spec", "jobTemplate", "spec")

# kind -> (path, maximum, what the bound is)
COUNT_FIELDS: dict[str, tuple[tuple[tuple[str, ...], int, str], ...]] = {
    "Deployment": ((("spec", "replicas"), MAX_REPLICAS, "replicas"),),
    "StatefulSet": ((("spec", "replicas"), MAX_REPLICAS, "replicas"),),
    "Job": (
        (("spec", "parallelism"), MAX_REPLICAS, "parallel pods"),
        (("spec", "completions"), MAX_COMPLETIONS, "completions"),
    ),
    "CronJob": (
        (_JOB + ("parallelism",), MAX_REPLICAS, "parallel pods"),
        (_JOB + ("completions",), MAX_COMPLETIONS, "completions"),
    ),
    "HorizontalPodAutoscaler": (
        (("spec", "minReplicas"), MAX_REPLICAS, "replicas"),
        (("spec", "maxReplicas"), MAX_REPLICAS, "replicas"),
    ),
}


def check(doc: Document) -> None:
    """Counts within bounds; the metadata rules on a document that is not a workload."""
    check_counts(doc.body, doc.index)
    if doc.role != WORKLOAD:
        isolation.check_metadata(doc.body, doc.index)


def check_counts(body: dict[str, Any], document: int | None = None) -> None:
    for path, maximum, what in COUNT_FIELDS.get(str(body.get("kind")), ()):
        value = dig(body, path)
        if not isinstance(value, int) or isinstance(value, bool) or value <= maximum:
            continue
        field = ".".join(path)
        where = f"document {document}: " if document is not None else ""
        raise InvalidManifest(
            f"{where}{field} is {value}; the platform runs at most {maximum} {what} per workload",
            {"field": field, "document": document, "maximum": maximum},
        )
