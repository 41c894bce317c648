"""Drawn stand-ins for the demo listings' photos: produce on a crate, made with Pillow.

Nothing is downloaded: each picture is a few shapes in the produce's colours, as a JPEG the
listing services take like a photo from a farmer's phone.
"""

import io
import random

from django.core.files.base import ContentFile
from PIL import Image, ImageDraw

WIDTH, HEIGHT = 800, 600
CRATE = (184, 134, 74)
CRATE_DARK = (140, 98, 52)


def _crate(draw: ImageDraw.ImageDraw) -> None:
    draw.rectangle((0, 0, WIDTH, HEIGHT), fill=(236, 242, 232))
    draw.rectangle((40, 300, WIDTH - 40, HEIGHT - 30), fill=CRATE)
    for y in range(330, HEIGHT - 30, 60):
        draw.line((40, y, WIDTH - 40, y), fill=CRATE_DARK, width=6)


def _round_fruit(draw, rng, colour, *, leaf=(60, 140, 60), size=(70, 90)) -> None:
    for _ in range(14):
        radius = rng.randint(*size)
        x = rng.randint(110, WIDTH - 110)
        y = rng.randint(220, 440)
        shade = tuple(max(0, c - rng.randint(0, 30)) for c in colour)
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=shade)
        draw.ellipse(
            (x - radius // 2, y - radius // 2, x - radius // 6, y - radius // 6),
            fill=tuple(min(255, c + 50) for c in shade),
        )
        draw.rectangle((x - 3, y - radius - 14, x + 3, y - radius + 4), fill=(90, 60, 30))
        draw.ellipse((x + 2, y - radius - 16, x + 26, y - radius - 4), fill=leaf)


def _long_vegetable(draw, rng, colour, *, cap=(70, 120, 50), thickness=(34, 46)) -> None:
    for _ in range(12):
        half = rng.randint(*thickness)
        x = rng.randint(70, WIDTH - 330)
        y = rng.randint(200, 470)
        shade = tuple(max(0, c - rng.randint(0, 25)) for c in colour)
        draw.rounded_rectangle((x, y - half, x + 260, y + half), radius=half, fill=shade)
        draw.rounded_rectangle((x - 24, y - half // 2, x + 18, y + half // 2), radius=8, fill=cap)


def _leafy(draw, rng, colour) -> None:
    for _ in range(7):
        radius = rng.randint(90, 120)
        x = rng.randint(140, WIDTH - 140)
        y = rng.randint(240, 420)
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=colour)
        for offset in (-40, 0, 40):
            draw.line(
                (x, y + radius - 10, x + offset, y - radius + 20), fill=(240, 248, 225), width=6
            )


def _peppers(draw, rng, colour) -> None:
    for _ in range(12):
        x = rng.randint(110, WIDTH - 110)
        y = rng.randint(220, 440)
        shade = tuple(max(0, c - rng.randint(0, 30)) for c in colour)
        draw.rounded_rectangle((x - 60, y - 55, x + 60, y + 70), radius=40, fill=shade)
        draw.line(
            (x - 20, y - 40, x - 20, y + 55), fill=tuple(max(0, c - 50) for c in shade), width=5
        )
        draw.rectangle((x - 8, y - 80, x + 8, y - 50), fill=(60, 120, 50))


SHAPES = {
    "FRT-APPLE": lambda draw, rng: _round_fruit(draw, rng, (200, 30, 45)),
    "FRT-PEAR": lambda draw, rng: _round_fruit(draw, rng, (222, 206, 96)),
    "VEG-CUCUMBER": lambda draw, rng: _long_vegetable(draw, rng, (46, 118, 52), cap=(230, 200, 60)),
    "VEG-EGGPLANT": lambda draw, rng: _long_vegetable(draw, rng, (88, 40, 110), thickness=(44, 58)),
    "VEG-CHINESE-CABBAGE": lambda draw, rng: _leafy(draw, rng, (196, 226, 150)),
    "VEG-CELERY": lambda draw, rng: _long_vegetable(draw, rng, (120, 180, 80), thickness=(20, 28)),
    "VEG-SWEET-PEPPER": lambda draw, rng: _peppers(draw, rng, (214, 40, 36)),
}


def produce_photo(product_code: str, *, seed: str) -> ContentFile:
    """A JPEG of the product on a crate; the same seed draws the same picture."""
    rng = random.Random(seed)
    image = Image.new("RGB", (WIDTH, HEIGHT))
    draw = ImageDraw.Draw(image)
    _crate(draw)
    SHAPES.get(product_code, lambda d, r: _round_fruit(d, r, (120, 170, 70)))(draw, rng)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return ContentFile(out.getvalue(), name=f"{product_code.lower()}.jpg")
