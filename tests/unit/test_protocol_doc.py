from __future__ import annotations

from pathlib import Path

from chat.protocol_doc import render

REPO = Path(__file__).resolve().parents[2]


def test_docs_protocol_md_is_generated_from_the_models() -> None:
    assert (REPO / "docs" / "protocol.md").read_text() == render(), "run `make docs`"
