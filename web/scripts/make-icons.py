"""Draws the installable app's PNG icons from the logo (web/public/favicon.svg, the top bar's Logo).

    .venv/bin/python web/scripts/make-icons.py   # writes web/public/icons/*.png (committed)

Pillow only (it is in the project's virtualenv). The shapes are favicon.svg's, in its 64x64 units, drawn 4x
larger and scaled down for smooth edges. "maskable" icons fill the whole square (the platform cuts its own
shape) and keep the bubble inside the central safe zone (a circle of 80% of the width).
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

ACCENT = (0x3B, 0x5B, 0xDB, 255)  # --accent in web/src/app/theme.css
WHITE = (255, 255, 255, 255)
OUT = Path(__file__).resolve().parent.parent / "public" / "icons"
SUPERSAMPLE = 4


def draw(size: int, *, maskable: bool) -> Image.Image:
    big = size * SUPERSAMPLE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    if maskable:
        pen.rectangle((0, 0, big, big), fill=ACCENT)
        scale, offset = big / 64 * 0.72, big * 0.14  # the bubble (x 16..48, y 14..48) well inside the safe zone
    else:
        pen.rounded_rectangle((0, 0, big - 1, big - 1), radius=big * 14 / 64, fill=ACCENT)
        scale, offset = big / 64, 0.0

    def at(x: float, y: float) -> tuple[float, float]:
        return (offset + x * scale, offset + y * scale)

    # favicon.svg: a rounded bubble (16,14)-(48,40) r6, its tail to (21,48), three dots at y 27.
    pen.rounded_rectangle((*at(16, 14), *at(48, 40)), radius=6 * scale, fill=WHITE)
    pen.polygon([at(22, 39), at(30, 40), at(21, 48)], fill=WHITE)
    pen.rectangle((*at(21, 34), *at(30, 40)), fill=WHITE)
    for cx in (25, 32, 39):
        x, y = at(cx, 27)
        r = 2.6 * scale
        pen.ellipse((x - r, y - r, x + r, y + r), fill=ACCENT)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, size, maskable in [
        ("icon-192.png", 192, False),
        ("icon-512.png", 512, False),
        ("maskable-512.png", 512, True),
        ("apple-touch-icon.png", 180, True),  # iOS rounds the corners itself and shows no transparency
    ]:
        draw(size, maskable=maskable).save(OUT / name, optimize=True)
        print(OUT / name)


if __name__ == "__main__":
    main()
