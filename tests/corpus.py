"""Where the shared third-party corpus is (real payloads and files, see its PROVENANCE.md).

OMS_CORPUS_DIR when set; else `shared/corpus` beside the checkout (../shared/corpus), where CI
puts it too (it clones into a temporary directory with shared/ beside it). No absolute path: a
clone anywhere finds the corpus the same way. Tests that need it skip with the reason when none
is found."""

import os
from pathlib import Path

import pytest

_CANDIDATES = (
    os.environ.get("OMS_CORPUS_DIR", ""),
    str(Path(__file__).resolve().parents[2] / "shared" / "corpus"),
)
ROOT = next((Path(p) for p in _CANDIDATES if p and Path(p).is_dir()), Path(_CANDIDATES[1]))


def corpus(part: str) -> Path:
    return ROOT / part


def needs(part: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(
        not corpus(part).is_dir(),
        reason=f"shared corpus not found ({corpus(part)}); set OMS_CORPUS_DIR",
    )
