"""The layering rule import-linter cannot see: an import of a crm module inside a function body is
there for a reason the line says (the import cycle it breaks, or a heavy module loaded only when
used). The app factory (crm/app.py) is exempt: wiring every area once the extensions exist is its job.
Who may import whom is checked by `lint-imports` (pyproject.toml [tool.importlinter]), run by `make test`."""
from __future__ import annotations

import ast
from pathlib import Path

CRM = Path(__file__).resolve().parents[2] / "crm"
FACTORY = CRM / "app.py"


def _unexplained_imports() -> list[str]:
    found = []
    for path in sorted(CRM.rglob("*.py")):
        if path == FACTORY:
            continue
        src = path.read_text().splitlines()
        for fn in ast.walk(ast.parse("\n".join(src))):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.ImportFrom):
                    target = "." if node.level else (node.module or "")
                elif isinstance(node, ast.Import):
                    target = node.names[0].name
                else:
                    continue
                if not target.startswith(("crm", ".")):
                    continue
                said = " ".join(src[max(0, node.lineno - 3):node.end_lineno])
                if "cycle" not in said and "lazy" not in said:
                    found.append(f"{path.relative_to(CRM.parent)}:{node.lineno}: {src[node.lineno - 1].strip()}")
    return found


def test_every_import_inside_a_function_says_why():
    assert CRM.is_dir() and any(CRM.rglob("*.py"))
    assert _unexplained_imports() == []
