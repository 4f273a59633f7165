"""The rules of the tree that import-linter cannot express (docs/architecture.md,
"Where queries live"): api/ builds no SQL, no folder of workflow/ grows past its size,
and the README's Layout names every package of workflow/."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# The SQL builders of SQLAlchemy: importing one means the module writes a query.
SQL_BUILDERS = {"select", "insert", "update", "delete", "text", "func", "and_", "or_"}
# api's own table (the stored answers for replays) and the health check's SELECT 1.
API_MAY_QUERY = {"api/replays.py", "api/routes/health.py"}
MAX_MODULES_PER_FOLDER = 17


def _sql_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            names |= {a.name for a in node.names} & SQL_BUILDERS
    return names


def test_api_builds_no_sql_outside_its_own_table() -> None:
    offenders = {
        rel: sorted(names)
        for path in sorted((ROOT / "api").rglob("*.py"))
        if (rel := path.relative_to(ROOT).as_posix()) not in API_MAY_QUERY
        and (names := _sql_imports(path))
    }
    assert offenders == {}, "queries belong in workflow/ (docs/architecture.md)"


def test_a_planted_query_in_api_would_be_found(tmp_path: Path) -> None:
    planted = tmp_path / "route.py"
    planted.write_text("from sqlalchemy import select, Column\n")
    assert _sql_imports(planted) == {"select"}


def test_no_workflow_folder_holds_more_than_about_fifteen_modules() -> None:
    sizes = {
        folder.relative_to(ROOT).as_posix(): len(
            [p for p in folder.glob("*.py") if p.name != "__init__.py"]
        )
        for folder in [ROOT / "workflow", *(ROOT / "workflow").rglob("*")]
        if (folder / "__init__.py").is_file()
    }
    assert {f: n for f, n in sizes.items() if n > MAX_MODULES_PER_FOLDER} == {}


def test_readme_layout_names_every_workflow_package() -> None:
    readme = (ROOT / "README.md").read_text()
    layout = readme[readme.index("## Layout") :]
    layout = layout[: layout.index("\n## ", 4)] if "\n## " in layout[4:] else layout
    packages = sorted(
        p.parent.name for p in (ROOT / "workflow").glob("*/__init__.py") if p.parent.name
    )
    assert [p for p in packages if f"{p}/" not in layout] == []
