"""Where the shared third-party corpus is (real payloads and files, see its PROVENANCE.md).

OMS_CORPUS_DIR when set; else `shared/corpus` beside the checkout (../shared/corpus); else the
machine-wide /work/shared/corpus, so a clean clone anywhere (CI clones into a temporary
directory) still runs the corpus tests. Tests that need it skip with the reason when none is
found."""

import os
from pathlib import Path

import pytest

_CANDIDATES = (
    os.environ.get("OMS_CORPUS_DIR", ""),
    str(Path(__file__).resolve().parents[2] / "shared" / "corpus"),
    "/work/shared/corpus",
)
ROOT = next((Path(p) for p in _CANDIDATES if p and Path(p).is_dir()), Path(_CANDIDATES[1]))


def corpus(part: str) -> Path:
    return ROOT / part


def needs(part: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(
        not corpus(part).is_dir(),
        reason=f"shared corpus not found ({corpus(part)}); set OMS_CORPUS_DIR",
    )
