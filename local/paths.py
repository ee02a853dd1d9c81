"""Where the parts of the repository the local stack serves and runs are."""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
LAYER_DIR = REPO_ROOT / "layers" / "shared" / "python"
FUNCTIONS_DIR = REPO_ROOT / "functions"
WEB_DIR = REPO_ROOT / "web"
# What `make web` (infra/web_build.py) builds from web/, and the stack serves at `/`.
WEB_DIST = WEB_DIR / "dist"


def make_layer_importable() -> None:
    """Put the shared layer on `sys.path` as Lambda does with `/opt/python` (it holds only the `chat` package)."""
    if str(LAYER_DIR) not in sys.path:
        sys.path.insert(0, str(LAYER_DIR))
