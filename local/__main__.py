"""`python -m local` (what `make dev` runs): the whole chat on http://127.0.0.1:8080, see `local/cli.py`."""

from local.paths import make_layer_importable

make_layer_importable()

from local.cli import main  # noqa: E402  (the layer's `chat` package must be importable first)

raise SystemExit(main())
