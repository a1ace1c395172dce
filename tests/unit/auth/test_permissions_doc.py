"""docs/permissions.md shows exactly the table the auth service enforces (nothing faked)."""

from pathlib import Path

from services.auth.permissions import matrix_markdown

DOC = Path(__file__).resolve().parents[3] / "docs" / "permissions.md"


def test_the_documented_matrix_is_the_enforced_one():
    text = DOC.read_text()
    table = text[text.index("| area | action |") :]
    assert table == matrix_markdown(), "regenerate: python -m services.auth.permissions"
