"""quota_exceeded says, per resource, what was asked, what is used and the limit, in the
resource's own units; the structured details stay as they were. Pure function, nothing faked."""

from services.quota.exceptions import QuotaExceeded


def test_cpu_memory_and_storage_in_human_units_on_one_line() -> None:
    excess = {
        "cpu": {"limit": 12000, "used": 11500, "requested": 450, "overhead": 250},
        "memory": {"limit": 8 * 2**30, "used": 15 * 2**29, "requested": 2**29, "overhead": 0},
        "storage.standard": {"limit": 10 * 2**30, "used": 10 * 2**30, "requested": 2**30},
    }

    error = QuotaExceeded.for_resources("775f28eae50d4ac48bf027804beca30e", excess)

    assert error.message == (
        "quota exceeded: cpu: asked 700m, 11.5 of 12 cores in use; "
        "memory: asked 512Mi, 7.5Gi of 8Gi in use; "
        "storage.standard: asked 1Gi, 10Gi of 10Gi in use"
    )
    assert "\n" not in error.message
    assert error.details == excess


def test_whole_cores_counts_and_a_missing_limit() -> None:
    excess = {
        "cpu": {"limit": None, "used": 2000, "requested": 1500, "overhead": 0},
        "count.pods": {"limit": 10, "used": 10, "requested": 1, "overhead": 0},
    }

    error = QuotaExceeded.for_resources("p1", excess)

    assert error.message == (
        "quota exceeded: count.pods: asked 1, 10 of 10 in use; "
        "cpu: asked 1.5 cores, 2 cores in use (no limit set)"
    )
