"""The random-model builder honours its shape flags (the GPU memory benchmark relies on --full-size)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import build_tiny_random_model as builder


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[dict[str, Any]]:
    """Record what main() asks build_model for, without instantiating NeMo."""
    calls: list[dict[str, Any]] = []

    def fake_build(out: Path, **shape: Any) -> Path:
        calls.append(shape)
        out.write_bytes(b"x")
        return out

    monkeypatch.setattr(builder, "build_model", fake_build)
    return calls


def test_full_size_builds_parakeet_v3_shapes(built: list[dict[str, Any]], tmp_path: Path) -> None:
    # When the benchmark asks for the full-size architecture
    builder.main(["--out", str(tmp_path / "full.nemo"), "--full-size"])
    # Then the model has Parakeet-TDT-0.6B-v3's shapes, not the tiny defaults
    [shape] = built
    assert shape["d_model"] == 1024 and shape["n_layers"] == 24 and shape["vocab_size"] == 8192
    assert shape["subsampling_channels"] == 256 and shape["n_heads"] == 8


def test_explicit_flags_reach_the_model(built: list[dict[str, Any]], tmp_path: Path) -> None:
    # When a shape is given on the command line
    builder.main(["--out", str(tmp_path / "m.nemo"), "--layers", "3", "--subsampling-channels", "32"])
    # Then it is the one built
    [shape] = built
    assert shape["n_layers"] == 3 and shape["subsampling_channels"] == 32
