"""docs/architecture.md and the README's "Where things live" match the tree.

- the beat schedule table in docs/architecture.md lists exactly the tasks of
  `beat_schedule` in oms/celery.py, with their periods;
- every top-level package (import-linter's root_packages) is a layer of the layers contract,
  appears in the README's "Where things live" table and in the architecture page's layer drawing;
- every handler registered in the kernel's registry is for a registered event type, and every
  event type that has handlers is recorded with its subject.
"""

import ast
import re
import tomllib
from pathlib import Path

from oms.celery import app
from oms.events import handlers, registry

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
IMPORTLINTER = PYPROJECT["tool"]["importlinter"]
ARCHITECTURE = (ROOT / "docs" / "architecture.md").read_text()
README = (ROOT / "README.md").read_text()


def _seconds(text: str) -> float:
    number, unit = re.match(r"(\d+)\s*(s|h)", text).groups()  # type: ignore[union-attr]  # every row has a period; a None here fails the test as it should
    return float(number) * (3600 if unit == "h" else 1)


def test_the_beat_schedule_in_the_docs_is_the_one_celery_runs():
    documented = {
        task: _seconds(every)
        for task, every in re.findall(r"^\| `([\w.]+_task)` \| ([^|]+) \|", ARCHITECTURE, re.M)
    }
    running = {entry["task"]: float(entry["schedule"]) for entry in app.conf.beat_schedule.values()}
    assert documented == running


def test_every_top_level_package_is_a_layer_and_documented_where_it_lives():
    packages = set(IMPORTLINTER["root_packages"])
    [layers] = [c for c in IMPORTLINTER["contracts"] if c["type"] == "layers"]
    in_layers = {
        name.strip("() ")
        for layer in layers["layers"]
        for name in re.split(r"[|:]", layer)
        if not name.strip().startswith("(")
    }
    assert packages == in_layers
    where = README[README.index("## Where things live") :]
    where = where[: where.index("How do I add")]
    drawing = ARCHITECTURE[ARCHITECTURE.index("## Layers between apps") :]
    for package in packages:
        assert f"`{package}/`" in where, f"{package}/ is missing from the README"
        assert re.search(rf"^{package}\b|· {package}\b", drawing, re.M), package
    top_level = {
        p.name
        for p in ROOT.iterdir()
        if (p / "__init__.py").exists() and p.name not in {"tests", "bench"}
    }
    assert top_level == packages, "every top-level package must be in root_packages"


def test_every_handler_is_for_a_registered_event_type():
    known = {t.name for t in registry.all_types()}
    assert handlers._HANDLERS, "the apps register their handlers when they load"
    assert set(handlers._HANDLERS) <= known


def test_every_event_that_has_handlers_is_recorded_with_its_subject():
    """An event recorded without a subject triggers no handler (oms/events/handlers.py), so a
    service that forgets `subject=` would silently skip what the layers above do about it."""
    names: dict[str, str] = {}  # ORDER_CREATED -> "order.created"
    sources = {
        path: ast.parse(path.read_text())
        for package in IMPORTLINTER["root_packages"]
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    }
    for tree in sources.values():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Call)
                and getattr(node.value.func, "id", None) == "register"
                and node.value.args
                and isinstance(node.value.args[0], ast.Constant)
            ):
                names[node.targets[0].id] = node.value.args[0].value  # type: ignore[attr-defined]  # module-level NAME = register(...)
    handled = set(handlers._HANDLERS)
    missing = []
    for path, tree in sources.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "record_event":
                keywords = {k.arg: k.value for k in node.keywords}
                type_ = keywords.get("type")
                if (
                    isinstance(type_, ast.Name)
                    and names.get(type_.id) in handled
                    and "subject" not in keywords
                ):
                    missing.append(f"{path.relative_to(ROOT)}:{node.lineno} {type_.id}")
    assert names, "the event types were found"
    assert missing == []
