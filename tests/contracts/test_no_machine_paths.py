"""No tracked file names a path on the machine it was written on.

Paths to things outside the checkout (the SQL floor, the shared corpus) are relative to it
(`../shared/...`, resolved from the file's own location) with an environment override, so a clone
anywhere, CI's included, works the same. Docs history (decision records, changelogs) may quote
an old path as it was and is exempt.
"""

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Built here so that this file does not contain it.
MACHINE_ROOT = "/" + "work" + "/"
HISTORY = ("docs/adr/",)
HISTORY_NAMES = ("CHANGELOG", "HISTORY")


def tracked_files() -> list[str]:
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"],  # noqa: S607 - git from PATH, as a developer runs it
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        pytest.skip(f"not a git checkout ({error})")
    return [name for name in out.decode().split("\0") if name]


def is_history(name: str) -> bool:
    return name.startswith(HISTORY) or Path(name).name.upper().startswith(HISTORY_NAMES)


def test_no_tracked_file_contains_an_absolute_machine_path():
    files = tracked_files()
    assert "pyproject.toml" in files
    needle = MACHINE_ROOT.encode()
    offenders = []
    for name in files:
        path = ROOT / name
        if is_history(name) or not path.is_file():
            continue
        for number, line in enumerate(path.read_bytes().splitlines(), start=1):
            if needle in line:
                offenders.append(f"{name}:{number}: {line.decode(errors='replace').strip()}")
    assert offenders == []
