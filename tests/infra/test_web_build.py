"""`make web`, `make dev` and `cdk synth` build the web client only when its inputs changed (npm ci on a new
package-lock.json, vite build on a new source), say in one line what to install without Node, and never leave
a half-built web/dist. A fake `npm` and `node` stand in for the real ones: each test takes well under a second."""

from __future__ import annotations

import io
import sys
import threading
from pathlib import Path

import pytest

from infra import web_build
from infra.web_build import NodeMissing, WebBuildError, WebProject, build_web

FAKE_NPM = """#!{python}
import os, pathlib, sys, time
args = sys.argv[1:]
with open(os.environ["FAKE_NPM_LOG"], "a") as log:
    log.write(args[0] + "\\n")
if args[0] == "ci":
    pathlib.Path("node_modules").mkdir(exist_ok=True)
    print("added 67 packages in 1s")
elif args[:4] == ["exec", "--no", "--", "vite"]:
    if os.environ.get("FAKE_VITE_FAILS"):
        print("error: src/main.tsx: Unexpected token")
        sys.exit(1)
    time.sleep(float(os.environ.get("FAKE_VITE_SECONDS", "0")))
    out = pathlib.Path(args[args.index("--outDir") + 1])
    (out / "assets").mkdir(parents=True)
    source = pathlib.Path("src/main.tsx").read_text()
    (out / "index.html").write_text("<!doctype html>" + source)
    print("dist/index.html  0.36 kB")
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> WebProject:
    root = tmp_path / "web"
    (root / "src").mkdir(parents=True)
    (root / "src" / "main.tsx").write_text("render(<App />)")
    (root / "package-lock.json").write_text('{"lockfileVersion": 3}')
    (root / "package.json").write_text("{}")
    fake_node(tmp_path, monkeypatch, "v20.20.2")
    return WebProject(root)


def fake_node(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, version: str | None, npm: bool = True) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name in ("node", "npm"):
        (bin_dir / name).unlink(missing_ok=True)
    if version is not None:
        (bin_dir / "node").write_text(f"#!/bin/sh\necho {version}\n")
        (bin_dir / "node").chmod(0o755)
        if npm:
            (bin_dir / "npm").write_text(FAKE_NPM.format(python=sys.executable))
            (bin_dir / "npm").chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("FAKE_NPM_LOG", str(tmp_path / "npm.log"))


def npm_calls(project: WebProject) -> list[str]:
    log = project.root.parent / "npm.log"
    calls = log.read_text().split() if log.exists() else []
    log.unlink(missing_ok=True)
    return calls


def build(project: WebProject) -> str:
    out = io.StringIO()
    build_web(project, out=out)
    return out.getvalue()


def test_a_first_build_installs_the_packages_then_builds_with_its_progress_shown(project: WebProject) -> None:
    shown = build(project)
    assert npm_calls(project) == ["ci", "exec"]
    assert (project.dist / "index.html").read_text() == "<!doctype html>render(<App />)"
    assert "added 67 packages" in shown and "dist/index.html  0.36 kB" in shown and "Built the web client" in shown


def test_a_second_build_with_nothing_changed_runs_nothing(project: WebProject) -> None:
    build(project)
    npm_calls(project)
    assert build(project) == ""
    assert npm_calls(project) == []


def test_a_changed_source_rebuilds_without_installing(project: WebProject) -> None:
    build(project)
    npm_calls(project)
    (project.root / "src" / "main.tsx").write_text("render(<NewApp />)")
    build(project)
    assert npm_calls(project) == ["exec"]
    assert "NewApp" in (project.dist / "index.html").read_text()


def test_a_new_file_in_the_sources_rebuilds(project: WebProject) -> None:
    build(project)
    npm_calls(project)
    (project.root / "public").mkdir()
    (project.root / "public" / "favicon.svg").write_text("<svg/>")
    build(project)
    assert npm_calls(project) == ["exec"]


def test_a_changed_lock_file_installs_and_rebuilds(project: WebProject) -> None:
    build(project)
    npm_calls(project)
    (project.root / "package-lock.json").write_text('{"lockfileVersion": 3, "packages": {}}')
    build(project)
    assert npm_calls(project) == ["ci", "exec"]


def test_a_deleted_build_is_built_again(project: WebProject) -> None:
    build(project)
    npm_calls(project)
    (project.dist / "index.html").unlink()
    build(project)
    assert npm_calls(project) == ["exec"]


def test_a_failed_build_says_why_and_keeps_the_previous_build(
    project: WebProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(project)
    (project.root / "src" / "main.tsx").write_text("render(<Broken")
    monkeypatch.setenv("FAKE_VITE_FAILS", "1")
    with pytest.raises(WebBuildError, match="failed with exit code 1") as failed:
        build(project)
    assert "Unexpected token" in str(failed.value)
    assert (project.dist / "index.html").read_text() == "<!doctype html>render(<App />)"
    assert not project.is_built(), "the next run tries again"
    assert [p.name for p in project.root.iterdir() if p.name.startswith(".dist")] == []


def test_builds_asked_for_at_once_build_once(project: WebProject, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_VITE_SECONDS", "0.3")
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            build(project)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert npm_calls(project) == ["ci", "exec"]


@pytest.mark.parametrize(
    ("version", "npm", "found"),
    [(None, False, "no node on the PATH"), ("v18.19.0", True, "node v18.19.0"), ("v20.20.2", False, "no npm")],
    ids=["no node", "node 18", "no npm"],
)
def test_without_node_20_19_and_npm_the_error_is_one_line_that_says_what_to_install(
    project: WebProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, version: str | None, npm: bool, found: str
) -> None:
    fake_node(tmp_path, monkeypatch, version, npm=npm)
    with pytest.raises(NodeMissing) as missing:
        build(project)
    (line,) = str(missing.value).splitlines()
    assert "Node 20.19+ and npm are needed" in line and "nvm install 20" in line and found in line


def test_make_dev_without_node_says_so_in_one_line_and_goes_on(
    project: WebProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_node(tmp_path, monkeypatch, None)
    monkeypatch.setattr(web_build, "WebProject", lambda: project)
    assert web_build.main(["--if-node"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith("Web client not built, the stack's page at / says how to build it: Node 20.19+")
    assert web_build.main([]) == 1, "make web and cdk synth fail"
