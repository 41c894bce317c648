"""Draw FreshChain's icons (a white leaf on green) into static/icons/: the SVG is the
source, the PNGs and favicon.ico are drawn here with Pillow the same way.

    .venv/bin/python scripts/make_icons.py
"""

from pathlib import Path

from PIL import Image, ImageDraw

GREEN = (31, 122, 61)
WHITE = (255, 255, 255)
OUT = Path(__file__).resolve().parents[1] / "static" / "icons"
SVG = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">\
<rect width="64" height="64" rx="14" fill="#1f7a3d"/>\
<path d="M14 50C14 28 28 14 50 14C50 36 36 50 14 50Z" fill="#fff"/>\
<path d="M19 45L41 23" stroke="#1f7a3d" stroke-width="3" stroke-linecap="round"/></svg>
"""


def _bezier(p0, p1, p2, p3, steps=40):
    points = []
    for i in range(steps + 1):
        t = i / steps
        a, b, c, d = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3
        points.append(
            (
                a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0],
                a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1],
            )
        )
    return points


def icon(size: int, *, maskable: bool) -> Image.Image:
    """The leaf of the SVG's 64-unit box; a maskable icon fills the square and keeps the
    leaf inside the middle 80 % that every launcher's mask shows."""
    scale = 4 * size / 64  # drawn four times larger, then scaled down smoothly
    big = Image.new("RGBA", (4 * size, 4 * size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(big)
    if maskable:
        draw.rectangle((0, 0, 4 * size, 4 * size), fill=GREEN)
        shrink, shift = 0.72, 32 * (1 - 0.72)
    else:
        draw.rounded_rectangle((0, 0, 4 * size - 1, 4 * size - 1), radius=14 * scale, fill=GREEN)
        shrink, shift = 1.0, 0.0

    def at(x, y):
        return ((x * shrink + shift) * scale, (y * shrink + shift) * scale)

    leaf = _bezier((14, 50), (14, 28), (28, 14), (50, 14)) + _bezier(
        (50, 14), (50, 36), (36, 50), (14, 50)
    )
    draw.polygon([at(x, y) for x, y in leaf], fill=WHITE)
    draw.line([at(19, 45), at(41, 23)], fill=GREEN, width=max(1, round(3 * shrink * scale)))
    return big.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "icon.svg").write_text(SVG)
    for size in (192, 512):
        icon(size, maskable=False).save(OUT / f"icon-{size}.png", optimize=True)
        icon(size, maskable=True).save(OUT / f"maskable-{size}.png", optimize=True)
    icon(180, maskable=True).convert("RGB").save(OUT / "apple-touch-icon.png", optimize=True)
    icon(32, maskable=False).save(OUT / "favicon-32.png", optimize=True)
    icon(48, maskable=False).save(OUT / "favicon.ico", sizes=[(16, 16), (32, 32), (48, 48)])


if __name__ == "__main__":
    main()
