"""Builds the web client into `web/dist` when its sources changed: for `make web`, `make dev` and `cdk synth`.

Two stamps, as the Makefile does for the Python packages: `npm ci` runs when `package-lock.json` changed (stamp
`node_modules/.installed-<hash of the lock>`), `vite build` when any source of the build changed (stamp
`node_modules/.built-<hash of SOURCES>`). `npm ci` empties `node_modules`, so new packages always rebuild. A
second run with nothing changed hashes about a hundred files and does nothing else.

Several processes may ask at once (pytest workers, a synth while `make dev` runs): a lock serializes the builds,
and vite writes into a scratch directory that replaces `dist` only when complete, so a running local stack never
serves half a build. Standard library only: `make dev` runs it with the local stack's requirements.

    python -m infra.web_build            # build if needed; fail with one line when Node is missing
    python -m infra.web_build --if-node  # `make dev`: without Node, say so in one line and go on
"""

from __future__ import annotations

import argparse
import gzip
import re
import shutil
import subprocess
import sys
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from infra.build_stamps import digest, exclusive_lock, file_contents

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
# What decides the build's output. Tests and type checks live in src/ too: a change there rebuilds, which is
# cheaper to accept than a list of exceptions that could hide a real input.
# vite.config.ts imports dev/ (the dev server's choice of stack) and pwa/ (the service worker's build step), so
# they count as well.
SOURCES = (
    "src",
    "public",
    "index.html",
    "vite.config.ts",
    "dev",
    "pwa",
    "tsconfig.json",
    "package.json",
    "package-lock.json",
)
# What a first visit may download in JavaScript, gzipped, before the app shows (Vite's kB are 1000 bytes).
INITIAL_JS_BUDGET_BYTES = 150_000
NODE_MINIMUM = (20, 19)  # Vite 8's engines field
NODE_NEEDED = (
    "Node 20.19+ and npm are needed to build the web client (web/dist): install Node from https://nodejs.org "
    "or with nvm (nvm install 20)"
)


class WebBuildError(RuntimeError):
    """The web client could not be built; the message is one line that says why and what to do."""


class NodeMissing(WebBuildError):
    pass


@dataclass(frozen=True)
class WebProject:
    root: Path = WEB_DIR

    @property
    def dist(self) -> Path:
        return self.root / "dist"

    @property
    def node_modules(self) -> Path:
        return self.root / "node_modules"

    def install_stamp(self) -> Path:
        return self.node_modules / f".installed-{digest((self.root / 'package-lock.json').read_bytes())}"

    def build_stamp(self) -> Path:
        return self.node_modules / f".built-{self.sources_hash()}"

    def sources_hash(self) -> str:
        return digest(*file_contents(self.root, SOURCES))

    def is_built(self) -> bool:
        return (self.dist / "index.html").is_file() and self.install_stamp().is_file() and self.build_stamp().is_file()


def build_web(project: WebProject | None = None, *, out: TextIO | None = None) -> Path:
    """`web/dist`, built first if it is missing or older than its sources. Raises `WebBuildError`."""
    project = project or WebProject()
    if project.is_built():
        return project.dist
    out = out or sys.stderr
    npm, node_version = find_node()
    with exclusive_lock(project.root / ".build.lock"):
        if not project.install_stamp().is_file():
            print(
                f"Installing the web client's packages (npm ci, Node {node_version}): about 6 s on a first run.",
                file=out,
                flush=True,
            )
            _run([npm, "ci", "--no-audit", "--no-fund"], project.root, out)
            _replace_stamp(project.install_stamp(), ".installed-")
        if not project.build_stamp().is_file() or not (project.dist / "index.html").is_file():
            _vite_build(project, npm, out)
    return project.dist


def find_node() -> tuple[str, str]:
    """npm's path and Node's version; `NodeMissing` unless both are there and Node is recent enough."""
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        raise NodeMissing(f"{NODE_NEEDED}. Found: no {'npm' if node else 'node'} on the PATH.")
    version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
    found = re.match(r"v?(\d+)\.(\d+)", version)
    if found is None or (int(found[1]), int(found[2])) < NODE_MINIMUM:
        raise NodeMissing(f"{NODE_NEEDED}. Found: node {version or '(no version)'}.")
    return npm, version


def _vite_build(project: WebProject, npm: str, out: TextIO) -> None:
    print("Building the web client (vite build into web/dist):", file=out, flush=True)
    started = time.perf_counter()
    scratch = project.root / ".dist-building"
    shutil.rmtree(scratch, ignore_errors=True)
    stamp = project.build_stamp()  # hashed before the build: an edit meanwhile rebuilds next time
    try:
        _run([npm, "exec", "--no", "--", "vite", "build", "--outDir", scratch.name, "--emptyOutDir"], project.root, out)
        old = project.root / ".dist-old"
        shutil.rmtree(old, ignore_errors=True)
        if project.dist.exists():
            project.dist.rename(old)
        scratch.rename(project.dist)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    _replace_stamp(stamp, ".built-")
    print(f"Built the web client in {time.perf_counter() - started:.1f} s.", file=out, flush=True)
    size = initial_javascript_gzipped(project.dist)
    print(
        f"Initial JavaScript: {size / 1000:.1f} KB gzipped (budget {INITIAL_JS_BUDGET_BYTES // 1000} KB).",
        file=out,
        flush=True,
    )


def initial_javascript_gzipped(dist: Path) -> int:
    """The gzipped bytes of the JavaScript a first visit loads before anything shows: the scripts and module
    preloads index.html names (lazy chunks, such as the OIDC library, are not in it)."""
    page = (dist / "index.html").read_text()
    paths = re.findall(r'<(?:script[^>]*\bsrc|link[^>]*rel="modulepreload"[^>]*\bhref)="/([^"]+\.js)"', page)
    return sum(len(gzip.compress((dist / path).read_bytes(), compresslevel=9)) for path in paths)


def _run(command: Sequence[str], cwd: Path, out: TextIO) -> None:
    """Run with its output shown as it comes (progress), keeping the end of it for the error."""
    tail: deque[str] = deque(maxlen=30)
    with subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            out.write(line)
            out.flush()
            tail.append(line)
    if process.returncode:
        shown = " ".join(command[:4])
        raise WebBuildError(f"`{shown}` failed with exit code {process.returncode} in {cwd}:\n{''.join(tail)}")


def _replace_stamp(stamp: Path, prefix: str) -> None:
    for old in stamp.parent.glob(f"{prefix}*"):
        old.unlink()
    stamp.touch()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.web_build", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--if-node",
        action="store_true",
        help="without Node, print one line saying the web client is not built and exit 0 (for `make dev`)",
    )
    args = parser.parse_args(argv)
    project = WebProject()
    try:
        build_web(project)
    except NodeMissing as missing:
        if not args.if_node:
            print(missing, file=sys.stderr)
            return 1
        if (project.dist / "index.html").is_file():
            print(f"Web client not rebuilt, the stack serves the previous build: {missing}", flush=True)
        else:
            print(f"Web client not built, the stack's page at / says how to build it: {missing}", flush=True)
    except WebBuildError as failed:
        print(str(failed).splitlines()[0], file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
