"""The CLI prints a quota refusal as one line with its amounts (pure function, nothing faked)."""

from cli.errors import EXIT_REFUSED, from_answer


def test_quota_exceeded_is_one_line_with_the_amounts() -> None:
    body = {
        "code": "quota_exceeded",
        "message": "quota exceeded: cpu: asked 700m, 11.5 of 12 cores in use",
        "details": {"cpu": {"limit": 12000, "used": 11500, "requested": 450, "overhead": 250}},
    }

    error = from_answer(422, body)

    assert error.exit_code == EXIT_REFUSED
    assert error.line() == (
        "error: quota_exceeded: quota exceeded: cpu: asked 700m, 11.5 of 12 cores in use"
    )
