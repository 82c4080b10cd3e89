"""Every environment variable the code reads is in README.md's configuration table, and every
variable in that table is read somewhere.

The variables are found by parsing the source, not by importing it: calls on a django-environ
`Env` (`env("X")`, `env.bool("X")`, `env.int`, `env.list`, `env.db`, ...), `os.environ.get("X")`,
`os.environ["X"]`, `os.environ.setdefault("X", ...)`, `os.getenv("X")` and `"X" in os.environ`,
over every first-party package (`[tool.importlinter] root_packages` in pyproject.toml, so a new
app is covered as soon as the import contracts know it; migrations and tests skipped) and the
Python files at the top of the checkout (`manage.py`, `gunicorn.conf.py`).

The benchmark's knobs get the same treatment against bench/README.md.
"""

import ast
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Methods of django-environ's Env that read a variable (besides calling it: `env("X")`).
ENV_READERS = {
    "bool",
    "bytes",
    "cache",
    "cache_url",
    "channels",
    "channels_url",
    "db",
    "db_url",
    "decimal",
    "dict",
    "email",
    "email_url",
    "float",
    "get_value",
    "int",
    "json",
    "list",
    "parse_value",
    "path",
    "search_url",
    "str",
    "tuple",
    "url",
}
OS_ENVIRON_READERS = {"get", "setdefault", "pop"}


@dataclass(frozen=True)
class Read:
    name: str | None  # None: the variable's name is not a string literal
    where: str

    def __str__(self) -> str:
        return f"{self.name or '<computed name>'} ({self.where})"


def first_party_packages() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return list(config["tool"]["importlinter"]["root_packages"])


def python_files(package_dirs: list[Path]) -> list[Path]:
    """The top-level scripts (manage.py, gunicorn.conf.py) and the packages' modules."""
    files = sorted(ROOT.glob("*.py"))
    for directory in package_dirs:
        for path in sorted(directory.rglob("*.py")):
            parts = path.relative_to(ROOT).parts
            if "migrations" in parts or "tests" in parts:
                continue
            files.append(path)
    return files


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return f"{head}.{node.attr}" if head else None
    return None


class EnvReads(ast.NodeVisitor):
    """Collects the environment variables one module reads."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.aliases: dict[str, str] = {}  # local name -> qualified name (imports)
        self.env_objects: set[str] = {"env"}  # names bound to a django-environ Env
        self.reads: list[Read] = []

    def qualified(self, node: ast.expr) -> str | None:
        dotted = _dotted(node)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        head = self.aliases.get(head, head)
        return f"{head}.{rest}" if rest else head

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.aliases[alias.asname] = alias.name

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            self.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"

    def visit_Assign(self, node: ast.Assign) -> None:
        if isinstance(node.value, ast.Call) and self.qualified(node.value.func) == "environ.Env":
            self.env_objects.update(t.id for t in node.targets if isinstance(t, ast.Name))
        self.generic_visit(node)

    def _record(self, name_node: ast.expr | None, node: ast.AST) -> None:
        name = None
        if isinstance(name_node, ast.Constant) and isinstance(name_node.value, str):
            name = name_node.value
        self.reads.append(Read(name, f"{self.where}:{node.lineno}"))

    def _is_os_environ(self, node: ast.expr) -> bool:
        return self.qualified(node) == "os.environ"

    def reads_a_variable(self, func: ast.expr) -> bool:
        if isinstance(func, ast.Name):  # env("X"), getenv("X")
            return func.id in self.env_objects or self.qualified(func) == "os.getenv"
        if not isinstance(func, ast.Attribute):
            return False
        if isinstance(func.value, ast.Name) and func.value.id in self.env_objects:
            return func.attr in ENV_READERS  # env.bool("X")
        if func.attr in OS_ENVIRON_READERS:
            return self._is_os_environ(func.value)  # os.environ.get("X")
        return self.qualified(func) == "os.getenv"

    def visit_Call(self, node: ast.Call) -> None:
        if self.reads_a_variable(node.func):
            first = node.args[0] if node.args else None
            if first is None:  # env.str(var="X"): the name given by keyword
                first = next((k.value for k in node.keywords if k.arg == "var"), None)
            self._record(first, node)
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if isinstance(node.ctx, ast.Load) and self._is_os_environ(node.value):
            self._record(node.slice, node)
        self.generic_visit(node)

    def visit_Compare(self, node: ast.Compare) -> None:
        for op, right in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, ast.In | ast.NotIn) and self._is_os_environ(right):
                self._record(node.left, node)
        self.generic_visit(node)


def reads_in(files: list[Path]) -> list[Read]:
    reads = []
    for path in files:
        visitor = EnvReads(path.relative_to(ROOT).as_posix())
        visitor.visit(ast.parse(path.read_text(), filename=str(path)))
        reads.extend(visitor.reads)
    return reads


def table_variables(markdown: Path, heading: str) -> set[str]:
    """The `VARIABLE`s in the first cell of each row of the first table under the heading."""
    lines = markdown.read_text().splitlines()
    start = lines.index(heading)
    names = set()
    in_table = False
    for line in lines[start + 1 :]:
        if line.startswith("#"):
            break
        if line.startswith("|"):
            in_table = True
            first_cell = line.split("|")[1]
            names.update(re.findall(r"`([A-Z][A-Z0-9_]*)`", first_cell))
        elif in_table:
            break
    assert names, f"no table of variables under {heading!r} in {markdown.name}"
    return names


def compare(reads: list[Read], documented: set[str], where: str) -> list[str]:
    problems = [
        f"reads a variable whose name is not a string literal: {r}" for r in reads if not r.name
    ]
    read_names = {r.name for r in reads if r.name}
    for name in sorted(read_names - documented):
        sites = ", ".join(r.where for r in reads if r.name == name)
        problems.append(f"{name} is read ({sites}) but not in {where}")
    for name in sorted(documented - read_names):
        problems.append(f"{name} is in {where} but nothing reads it")
    return problems


def test_every_first_party_package_is_covered():
    """A new app that is not in root_packages would escape the check below (and the import
    contracts): every top-level package of the checkout but tests is listed there."""
    packages = {
        path.parent.name for path in ROOT.glob("*/__init__.py") if path.parent.name != "tests"
    }
    assert packages - set(first_party_packages()) == set()


def test_the_scanner_finds_every_way_of_reading():
    source = """
import os
from os import environ as E, getenv
import environ
settings_env = environ.Env()
settings_env("A"); settings_env.bool("B", default=False); settings_env.db("C")
settings_env.str(var="D")
os.environ.get("E"); os.environ["F"]; os.environ.setdefault("G", "x"); os.getenv("H")
E.get("I"); getenv("J"); "K" in os.environ; os.environ.pop("L", None)
os.environ["NOT_A_READ"] = "1"
environ.Env.read_env("/nowhere")
settings_env.bool(computed)
"""
    visitor = EnvReads("example.py")
    visitor.visit(ast.parse(source))
    assert [r.name for r in visitor.reads] == [*"ABCDEFGHIJKL", None]


def test_every_variable_read_is_documented_and_every_documented_one_is_read():
    files = python_files([ROOT / package for package in first_party_packages()])
    reads = reads_in(files)
    assert len({r.name for r in reads}) > 20  # the scanner found settings.py's variables
    documented = table_variables(ROOT / "README.md", "## Configuration")

    assert compare(reads, documented, "README.md's Configuration table") == []


def bench_reads() -> list[Read]:
    """The benchmark's knobs: `${NAME:-default}` in bench/run.sh and what bench/*.py read,
    less what run.sh itself sets for the programs it starts (BENCH_READY_DIR,
    DJANGO_SETTINGS_MODULE, DATABASE_URL...): those are not knobs."""
    script = (ROOT / "bench" / "run.sh").read_text()
    reads = [
        Read(m.group(1), f"bench/run.sh:{script.count(chr(10), 0, m.start()) + 1}")
        for m in re.finditer(r"\$\{([A-Z][A-Z0-9_]*):-", script)
    ]
    set_by_script = set()
    for line in script.splitlines():
        if re.match(r"\s*(export\s+)?[A-Z][A-Z0-9_]*=", line):
            for name, value in re.findall(r"(?:^|\s)([A-Z][A-Z0-9_]*)=(\S*)", line):
                if not value.startswith(f"${{{name}:-"):
                    set_by_script.add(name)
    python = reads_in(sorted((ROOT / "bench").glob("*.py")))
    return reads + [r for r in python if r.name not in set_by_script]


def test_every_benchmark_knob_is_documented_and_every_documented_one_is_read():
    documented = table_variables(ROOT / "bench" / "README.md", "## Knobs (environment variables)")

    assert compare(bench_reads(), documented, "bench/README.md's Knobs table") == []
