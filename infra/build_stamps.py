"""What the builds made at synth and test time (the Lambda layer, the web client) share: a digest of their inputs,
to name a stamp or an output after, and a lock so that parallel builders (pytest workers, a synth) build once.
Standard library only: `make dev` runs the web build before anything else is installed."""

from __future__ import annotations

import fcntl
import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path


def digest(*parts: bytes) -> str:
    sha = hashlib.sha256()
    for part in parts:
        sha.update(hashlib.sha256(part).digest())
    return sha.hexdigest()[:16]


def file_contents(root: Path, names: Sequence[str], *, skip: frozenset[str] = frozenset()) -> Iterator[bytes]:
    """Each file under the named files and folders of `root`, as its relative path and bytes, in a stable order;
    files inside a folder named in `skip`, or with a suffix in it, are left out."""
    for name in names:
        path = root / name
        paths = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in paths:
            if file.is_file() and not (skip & {*file.relative_to(root).parts, file.suffix}):
                yield str(file.relative_to(root)).encode() + b"\0" + file.read_bytes()


@contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
