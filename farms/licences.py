"""The business licence photo of a co-operative's application: checked with Pillow and kept
as a re-encoded JPEG.

A licence must stay readable (its small print, the red seal), so it is kept larger than a
listing photo; its metadata (a phone photo's GPS position) is dropped like any photo's.
"""

import io
import secrets
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from .exceptions import InvalidLicencePhoto

ALLOWED_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
MAX_PIXELS = 40_000_000
MAX_EDGE_PX = 3000
JPEG_QUALITY = 88


@dataclass(frozen=True)
class LicencePhoto:
    image: bytes  # JPEG
    name: str  # a random file name: the uploaded one is the applicant's, not ours


def licence_body_limit() -> int:
    """The largest request body a licence upload may come in: twice the photo limit, so a
    photo a little too large is still read and refused with a field error, not cut off."""
    return 2 * settings.COOPERATIVE_LICENCE_MAX_BYTES + 64 * 1024


def _too_large() -> InvalidLicencePhoto:
    limit_mb = settings.COOPERATIVE_LICENCE_MAX_BYTES / (1024 * 1024)
    return InvalidLicencePhoto(
        _("This photo is too large: at most %(mb)s MB.") % {"mb": f"{limit_mb:g}"}
    )


def _read(upload) -> bytes:
    limit = settings.COOPERATIVE_LICENCE_MAX_BYTES
    if getattr(upload, "size", None) is not None and upload.size > limit:
        raise _too_large()
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise _too_large()
    if not data:
        raise InvalidLicencePhoto(_("The file is empty."))
    return data


def _open(data: bytes) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        return Image.open(io.BytesIO(data))


def process_licence(upload) -> LicencePhoto:
    """A JPEG, PNG or WebP photo of the licence, verified, upright, without metadata, at most
    MAX_EDGE_PX on its longer side; InvalidLicencePhoto (field "licence") otherwise."""
    if not upload:
        raise InvalidLicencePhoto(_("Add a photo of the business licence."))
    data = _read(upload)
    try:
        with _open(data) as probe:
            if probe.format not in ALLOWED_FORMATS:
                raise InvalidLicencePhoto()
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise InvalidLicencePhoto(_("This image has too many pixels."))
            probe.verify()
        image = _open(data)
        image.load()
        image = ImageOps.exif_transpose(image)
    except InvalidLicencePhoto:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombWarning,
        Image.DecompressionBombError,
    ) as exc:
        raise InvalidLicencePhoto() from exc
    rgb = Image.new("RGB", image.size, (255, 255, 255))
    rgb.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
    rgb.thumbnail((MAX_EDGE_PX, MAX_EDGE_PX), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    rgb.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return LicencePhoto(image=out.getvalue(), name=f"{secrets.token_hex(12)}.jpg")
