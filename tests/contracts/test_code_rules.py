"""The project's pattern rules (docs/architecture.md), checked on the source like a linter.

Each rule names the files it scans and the pattern that must not appear there. A hit prints the
file and line so the fix is obvious.
"""

import ast
import re
import tokenize
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Every first-party package: the import contracts' list, so a new app is covered at once
# (tests/contracts/test_architecture_docs.py checks that list against the tree).
APPS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["root_packages"]


def source_files(*, include: str = "", exclude: tuple[str, ...] = ()) -> list[Path]:
    files = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            rel = path.relative_to(ROOT).as_posix()
            if "/migrations/" in rel or any(part in rel for part in exclude):
                continue
            if include and not re.search(include, rel):
                continue
            files.append(path)
    return files


def hits(pattern: str, files: list[Path]) -> list[str]:
    regex = re.compile(pattern)
    found = []
    for path in files:
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if regex.search(line) and "# rule-ok" not in line:
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    return found


@pytest.mark.parametrize(
    ("_case", "pattern", "include", "exclude"),
    [
        (
            "status changes go through FSM transitions in services",
            r"\.update\([^)]*\b(status|payment_status)\s*=",
            "",
            ("/services/", "/services.py"),
        ),
        (
            "API views and admin read through selectors, not managers",
            r"\b(Order|OrderLine|Hold|StockLevel|Event)\.objects\b",
            r"/api/|admin",
            (),
        ),
        (
            "tasks are scheduled with on_commit, never .delay() inline",
            r"\.delay\(",
            r"/services/|services\.py|/api/|admin",
            (),
        ),
        ("no bare select_related()", r"select_related\(\)", "", ()),
        ("exists(), not count() == 0", r"\.count\(\)\s*==\s*0", "", ()),
    ],
)
def test_pattern_rule(_case, pattern, include, exclude):
    assert hits(pattern, source_files(include=include, exclude=exclude)) == []


def test_select_for_update_names_the_locked_tables():
    """select_for_update(of=...) locks only the rows meant, not every joined table."""
    offenders = []
    for path in source_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "select_for_update"
                and not any(kw.arg == "of" for kw in node.keywords)
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_no_fstrings_in_log_calls():
    offenders = []
    for path in source_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"debug", "info", "warning", "error", "exception"}
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "logger"
                and node.args
                and isinstance(node.args[0], ast.JoinedStr)
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


# `# type: ignore[code1, code2]  # why`: the error code(s), then the reason, on the same line.
TYPE_IGNORE = re.compile(r"#\s*type:\s*ignore\b")
TYPE_IGNORE_EXPLAINED = re.compile(
    r"#\s*type:\s*ignore\[[a-z0-9-]+(?:\s*,\s*[a-z0-9-]+)*\]\s+#\s*\S"
)


def first_party_python_files() -> list[Path]:
    """Every first-party module, tests and tooling included; migrations are generated."""
    skip = {".venv", ".tools", ".git", "node_modules"}
    return [
        path
        for path in ROOT.rglob("*.py")
        if not skip & set(path.relative_to(ROOT).parts)
        and "migrations" not in path.relative_to(ROOT).parts
    ]


def unexplained_type_ignores(files: list[Path]) -> list[str]:
    """Real comments only (tokenize), so a string that mentions an ignore is not one."""
    found = []
    for path in files:
        name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        with path.open(encoding="utf-8") as source:
            for token in tokenize.generate_tokens(source.readline):
                if (
                    token.type == tokenize.COMMENT
                    and TYPE_IGNORE.search(token.string)
                    and not TYPE_IGNORE_EXPLAINED.search(token.string)
                ):
                    found.append(f"{name}:{token.start[0]}: {token.string}")
    return found


def test_type_ignores_name_the_error_code_and_the_reason():
    assert unexplained_type_ignores(first_party_python_files()) == []


@pytest.mark.parametrize(
    ("line", "flagged"),
    [
        ("x = f()  # type: ignore", True),
        ("x = f()  # type: ignore[attr-defined]", True),
        ("x = f()  # type:ignore[arg-type]  #", True),
        ("x = f()  # type: ignore  # django-fsm adds it", True),
        ("x = f()  # type: ignore[attr-defined]  # django-fsm adds this at class creation", False),
        ("x = f()  # type: ignore[arg-type, union-attr]  # checked at init", False),
    ],
)
def test_the_type_ignore_rule_itself(tmp_path, line, flagged):
    module = tmp_path / "module.py"
    module.write_text(line + "\n")
    assert bool(unexplained_type_ignores([module])) is flagged
