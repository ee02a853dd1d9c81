"""Builds the shared layer's directory before synth, without Docker.

pip picks manylinux wheels for the Lambda's architecture and Python version (`--platform`,
`--python-version`, `--only-binary=:all:`). The wheels are cached in `.build/` under a hash of everything that
decides them, and the layer (wheels plus the `chat` package) under a hash that adds the package's sources.
Several processes (pytest workers) may build at once: a lock serializes them, and each build is renamed into
place only when complete.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from infra.constants import PIP_PLATFORM, PYTHON_VERSION

ROOT = Path(__file__).resolve().parent.parent
LAYER_SOURCE = ROOT / "layers" / "shared" / "python"
REQUIREMENTS = ROOT / "requirements" / "runtime.txt"
BUILD_DIR = ROOT / ".build"
# The Lambda runtime ships boto3 and botocore; a second botocore (pulled in by aws-xray-sdk) would shadow the
# runtime's and could mismatch its boto3.
PROVIDED_BY_RUNTIME = ("botocore",)
RECIPE = f"v1 {PIP_PLATFORM} cp{PYTHON_VERSION} without {','.join(PROVIDED_BY_RUNTIME)}"


def build_layer() -> tuple[Path, str]:
    """The layer directory (its packages under `python/`) and a hash of its content, for the asset."""
    wheels_hash = _digest(RECIPE.encode(), REQUIREMENTS.read_bytes())
    wheels = _build_once(BUILD_DIR / f"wheels-{wheels_hash}", _install_wheels)
    layer_hash = _digest(wheels_hash.encode(), *_source_files())
    layer = _build_once(BUILD_DIR / f"layer-{layer_hash}", lambda out: _assemble(out, wheels))
    return layer, layer_hash


def _install_wheels(out: Path) -> None:
    pip = subprocess.run(
        [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
            "--platform", PIP_PLATFORM, "--implementation", "cp", "--python-version", PYTHON_VERSION,
            "--only-binary=:all:", "--target", str(out), "-r", str(REQUIREMENTS),
        ],
        capture_output=True,
        text=True,
    )  # fmt: skip
    if pip.returncode:
        raise RuntimeError(f"pip could not fetch the layer's wheels for {PIP_PLATFORM}:\n{pip.stderr}")
    for pattern in PROVIDED_BY_RUNTIME:
        for path in [*out.glob(pattern), *out.glob(f"{pattern}-*.dist-info")]:
            shutil.rmtree(path)
    shutil.rmtree(out / "bin", ignore_errors=True)


def _assemble(out: Path, wheels: Path) -> None:
    # Hard links: the wheels are tens of MB and never modified in place.
    shutil.copytree(wheels, out / "python", copy_function=os.link)
    shutil.copytree(LAYER_SOURCE, out / "python", dirs_exist_ok=True, ignore=_build_leftovers)


def _build_leftovers(_directory: str, names: list[str]) -> list[str]:
    return [n for n in names if n == "__pycache__" or n.endswith(".pyc")]


def _source_files() -> Iterator[bytes]:
    for path in sorted(LAYER_SOURCE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            yield str(path.relative_to(LAYER_SOURCE)).encode() + b"\0" + path.read_bytes()


def _digest(*parts: bytes) -> str:
    sha = hashlib.sha256()
    for part in parts:
        sha.update(hashlib.sha256(part).digest())
    return sha.hexdigest()[:16]


def _build_once(target: Path, build: Callable[[Path], None]) -> Path:
    if target.is_dir():
        return target
    BUILD_DIR.mkdir(exist_ok=True)
    with _lock(BUILD_DIR / ".lock"):
        if target.is_dir():  # another process built it while we waited
            return target
        scratch = Path(tempfile.mkdtemp(dir=BUILD_DIR, prefix=f".{target.name}-"))
        try:
            build(scratch)
            scratch.rename(target)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return target


@contextmanager
def _lock(path: Path) -> Iterator[None]:
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
