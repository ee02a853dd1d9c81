"""The first run: `make dev` installs only what the local stack needs (and builds the web client when Node is
there), `make test` the rest, a second run nothing;
`make test` without Node 20+ stops at once with one line that says what to install.

Dry runs (`make -n`) against a venv path that does not exist: nothing is installed or run.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from local.paths import REPO_ROOT

MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(MAKE is None, reason="no make on this machine")


def make(*args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    assert MAKE is not None
    env = {"PATH": path} if path is not None else None
    return subprocess.run(
        [MAKE, "--no-print-directory", *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def installs(dry_run: str) -> list[str]:
    return re.findall(r"pip install .*-r (\S+)", dry_run)


def stamps(dry_run: str) -> list[str]:
    return re.findall(r"&& touch (\S+)", dry_run)


def path_without_node(tmp_path: Path, node_version: str | None) -> str:
    """A PATH with what the Makefile needs to read itself, and a `node` that says `node_version` (or none)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("cat", "sha256sum", "cut"):
        found = shutil.which(tool)
        assert found is not None
        (bin_dir / tool).symlink_to(found)
    if node_version is not None:
        node = bin_dir / "node"
        node.write_text(f"#!/bin/sh\necho {node_version}\n")
        node.chmod(0o755)
    return str(bin_dir)


def test_make_dev_installs_only_the_local_requirements_and_a_second_run_installs_nothing(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    first = make("-n", f"VENV={venv}", "dev")
    assert first.returncode == 0, first.stderr
    assert installs(first.stdout) == ["requirements/local.txt"]
    assert "Installing what the local stack needs" in first.stdout

    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").touch()
    for stamp in stamps(first.stdout):
        Path(stamp).touch()
    second = make("-n", f"VENV={venv}", "dev")
    assert installs(second.stdout) == []
    assert second.stdout.splitlines() == [
        f"{venv}/bin/python -m infra.web_build --if-node",
        f"{venv}/bin/python -m local",
    ]


def test_make_test_adds_the_dev_requirements_once(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    first = make("-n", f"VENV={venv}", "test")
    assert first.returncode == 0, first.stderr
    assert installs(first.stdout) == ["requirements/local.txt", "requirements/dev.txt"]

    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").touch()
    for stamp in stamps(first.stdout):
        Path(stamp).touch()
    assert installs(make("-n", f"VENV={venv}", "test").stdout) == []
    assert installs(make("-n", f"VENV={venv}", "dev").stdout) == []


def test_make_web_builds_the_client_with_nothing_but_a_venv(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    planned = make("-n", f"VENV={venv}", "web")
    assert planned.returncode == 0, planned.stderr
    assert installs(planned.stdout) == [], "the build script needs only the standard library"
    assert planned.stdout.splitlines()[-1] == f"{venv}/bin/python -m infra.web_build"


def test_make_test_builds_the_web_client_before_the_tests(tmp_path: Path) -> None:
    planned = make("-n", f"VENV={tmp_path / 'venv'}", "test").stdout.splitlines()
    build = planned.index(f"{tmp_path / 'venv'}/bin/python -m infra.web_build")
    assert build < next(i for i, line in enumerate(planned) if "-m pytest" in line)


def test_the_dev_requirements_include_the_local_ones() -> None:
    assert "-r local.txt" in (REPO_ROOT / "requirements" / "dev.txt").read_text().splitlines()
    assert "-r runtime.txt" in (REPO_ROOT / "requirements" / "local.txt").read_text().splitlines()


@pytest.mark.parametrize("node_version", [None, "v18.19.0"], ids=["no node", "node 18"])
def test_make_test_without_node_20_stops_first_with_one_line_saying_what_to_install(
    tmp_path: Path, node_version: str | None
) -> None:
    venv = tmp_path / "venv"
    stopped = make("-n", f"VENV={venv}", "test", path=path_without_node(tmp_path, node_version))
    assert stopped.returncode != 0
    assert stopped.stdout == ""  # nothing installed, nothing run
    (line,) = stopped.stderr.splitlines()
    assert "Node 20+ is needed for the CDK tests" in line and "nvm install 20" in line
    assert (node_version or "no node on the PATH") in line


def test_make_test_goes_on_with_node_20_or_later(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    planned = make("-n", f"VENV={venv}", "test", path=path_without_node(tmp_path, "v22.11.0"))
    assert planned.returncode == 0, planned.stderr
    assert "-m pytest" in planned.stdout
