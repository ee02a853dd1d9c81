"""The layer ships bytecode when it is built by the runtime's Python version, and none otherwise."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra import layer_build

THIS_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
PYC = f"cpython-{sys.version_info.major}{sys.version_info.minor}.pyc"


@pytest.fixture
def sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A wheels directory and a layer source, each with one module."""
    wheels, source = tmp_path / "wheels", tmp_path / "source"
    (wheels / "dep").mkdir(parents=True)
    (wheels / "dep" / "__init__.py").write_text("VALUE = 'dep'\n")
    (source / "chat").mkdir(parents=True)
    (source / "chat" / "__init__.py").write_text("")
    (source / "chat" / "mod.py").write_text("VALUE = 'compiled'\n")
    monkeypatch.setattr(layer_build, "LAYER_SOURCE", source)
    return wheels, source


def test_built_by_the_runtimes_python_the_layer_ships_unchecked_hash_bytecode(
    sources: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheels, _ = sources
    monkeypatch.setattr(layer_build, "PYTHON_VERSION", THIS_PYTHON)
    out = tmp_path / "layer"

    layer_build._assemble(out, wheels)

    for module in (out / "python" / "chat" / "__pycache__" / f"mod.{PYC}", out / "python" / "dep" / "__pycache__"):
        assert module.exists()
    flags = int.from_bytes((out / "python" / "chat" / "__pycache__" / f"mod.{PYC}").read_bytes()[4:8], "little")
    assert flags == 0b01  # hash-based, source not checked: the asset's zip keeps no mtimes
    assert not (wheels / "dep" / "__pycache__").exists()  # the cached wheels (hard-linked) are not written to

    # Lambda imports from a read-only /opt: the shipped bytecode is what runs, whatever the source's mtime.
    (out / "python" / "chat" / "mod.py").unlink()
    (out / "python" / "chat" / "mod.py").write_text("VALUE = 'recompiled'\n")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(out / "python")}
    imported = subprocess.run(
        [sys.executable, "-c", "import chat.mod; print(chat.mod.VALUE)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert imported.stdout.strip() == "compiled"


def test_built_by_another_python_the_layer_ships_no_bytecode_and_says_so(
    sources: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheels, _ = sources
    monkeypatch.setattr(layer_build, "PYTHON_VERSION", "3.99")
    out = tmp_path / "layer"

    with pytest.warns(UserWarning, match="ships no bytecode"):
        layer_build._assemble(out, wheels)

    assert not list(out.rglob("*.pyc"))


def test_bytecode_follows_the_build_pythons_version(monkeypatch: pytest.MonkeyPatch) -> None:
    assert layer_build.ships_bytecode() is (THIS_PYTHON == layer_build.PYTHON_VERSION)
    monkeypatch.setattr(layer_build, "PYTHON_VERSION", THIS_PYTHON)
    assert layer_build.ships_bytecode()
