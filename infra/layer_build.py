"""Builds the shared layer's directory before synth, without Docker.

pip picks manylinux wheels for the Lambda's architecture and Python version (`--platform`,
`--python-version`, `--only-binary=:all:`). The wheels are cached in `.build/` under a hash of everything that
decides them, and the layer (wheels plus the `chat` package) under a hash that adds the package's sources.
Several processes (pytest workers) may build at once: a lock serializes them, and each build is renamed into
place only when complete.

Bytecode: Lambda's `/opt` is read-only, so a layer without `.pyc` files compiles every module it imports at every
cold start (2-2.5x the import time, docs/architecture.md "Cold start"). Only the runtime's Python version can
write its bytecode (the magic number in each `.pyc`), so when the build runs on it the layer ships `.pyc` files,
hash-based and unchecked (the asset's zip does not keep the sources' mtimes that timestamp-based ones check);
from any other Python it ships none, as a warning says.
"""

from __future__ import annotations

import compileall
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

from infra.build_stamps import digest, exclusive_lock, file_contents
from infra.constants import PIP_PLATFORM, PYTHON_VERSION

ROOT = Path(__file__).resolve().parent.parent
LAYER_SOURCE = ROOT / "layers" / "shared" / "python"
REQUIREMENTS = ROOT / "requirements" / "runtime.txt"
BUILD_DIR = ROOT / ".build"
# The Lambda runtime ships boto3 and botocore; a second botocore (pulled in by aws-xray-sdk) would shadow the
# runtime's and could mismatch its boto3.
PROVIDED_BY_RUNTIME = ("botocore",)
# Pure-Python packages published as source only: built into a platform-independent wheel here first, so that the
# install below can stay wheels-only (`--only-binary=:all:` never runs a package's build for the wrong platform).
SOURCE_ONLY = ("http-ece",)
RECIPE = f"v2 {PIP_PLATFORM} cp{PYTHON_VERSION} without {','.join(PROVIDED_BY_RUNTIME)} built {','.join(SOURCE_ONLY)}"


def build_layer() -> tuple[Path, str]:
    """The layer directory (its packages under `python/`) and a hash of its content, for the asset."""
    wheels_hash = digest(RECIPE.encode(), REQUIREMENTS.read_bytes())
    wheels = _build_once(BUILD_DIR / f"wheels-{wheels_hash}", _install_wheels)
    bytecode = b"bytecode" if ships_bytecode() else b"no bytecode"
    layer_hash = digest(wheels_hash.encode(), bytecode, *file_contents(LAYER_SOURCE, ["."], skip=BUILD_LEFTOVERS))
    layer = _build_once(BUILD_DIR / f"layer-{layer_hash}", lambda out: _assemble(out, wheels))
    return layer, layer_hash


def _pinned(name: str) -> str:
    """The `name==version` line of the runtime requirements."""
    for line in REQUIREMENTS.read_text().splitlines():
        if line.split("==")[0].strip().lower() == name:
            return line.split("#")[0].strip()
    raise RuntimeError(f"{name} is not pinned in {REQUIREMENTS}")


def _install_wheels(out: Path) -> None:
    with tempfile.TemporaryDirectory(dir=BUILD_DIR) as wheelhouse:
        if SOURCE_ONLY:
            _pip(["wheel", "--no-deps", "--wheel-dir", wheelhouse, *(_pinned(name) for name in SOURCE_ONLY)])
        _pip(
            [
                "install", "--no-compile", "--platform", PIP_PLATFORM, "--implementation", "cp",
                "--python-version", PYTHON_VERSION, "--only-binary=:all:", "--find-links", wheelhouse,
                "--target", str(out), "-r", str(REQUIREMENTS),
            ]
        )  # fmt: skip
    for pattern in PROVIDED_BY_RUNTIME:
        for path in [*out.glob(pattern), *out.glob(f"{pattern}-*.dist-info")]:
            shutil.rmtree(path)
    shutil.rmtree(out / "bin", ignore_errors=True)


def _pip(arguments: list[str]) -> None:
    pip = subprocess.run(
        [sys.executable, "-m", "pip", arguments[0], "--quiet", "--disable-pip-version-check", *arguments[1:]],
        capture_output=True,
        text=True,
    )
    if pip.returncode:
        raise RuntimeError(f"pip could not fetch the layer's wheels for {PIP_PLATFORM}:\n{pip.stderr}")


def ships_bytecode() -> bool:
    """Whether this Python can write the runtime's bytecode (it is the runtime's version)."""
    return f"{sys.version_info.major}.{sys.version_info.minor}" == PYTHON_VERSION


def _assemble(out: Path, wheels: Path) -> None:
    # Hard links: the wheels are tens of MB and never modified in place (bytecode goes to new files beside them).
    shutil.copytree(wheels, out / "python", copy_function=os.link)
    shutil.copytree(LAYER_SOURCE, out / "python", dirs_exist_ok=True, ignore=_build_leftovers)
    if not ships_bytecode():
        warnings.warn(
            f"the layer ships no bytecode: built by Python {sys.version_info.major}.{sys.version_info.minor}, "
            f"not the runtime's {PYTHON_VERSION} (every cold start compiles what it imports)",
            stacklevel=2,
        )
        return
    compiled = compileall.compile_dir(
        out / "python", quiet=2, workers=0, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH
    )
    if not compiled:  # a file the runtime could not import either (a wheel's template or test data)
        warnings.warn("some of the layer's .py files do not compile: those ship without bytecode", stacklevel=2)


# Bytecode this machine's Python left in the source: not for the runtime's Python, and not part of the hash.
BUILD_LEFTOVERS = frozenset({"__pycache__", ".pyc"})


def _build_leftovers(_directory: str, names: list[str]) -> list[str]:
    return [n for n in names if n in BUILD_LEFTOVERS or Path(n).suffix in BUILD_LEFTOVERS]


def _build_once(target: Path, build: Callable[[Path], None]) -> Path:
    if target.is_dir():
        return target
    BUILD_DIR.mkdir(exist_ok=True)
    with exclusive_lock(BUILD_DIR / ".lock"):
        if target.is_dir():  # another process built it while we waited
            return target
        scratch = Path(tempfile.mkdtemp(dir=BUILD_DIR, prefix=f".{target.name}-"))
        try:
            build(scratch)
            scratch.rename(target)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return target
