"""Photos from a phone camera (listing photos, proofs of delivery): check, turn upright,
strip EXIF, resize.

A phone photo carries EXIF, often with the GPS position of the farmer's or courier's home. The image
is decoded and re-encoded from its pixels alone, so nothing of the original metadata
(EXIF, GPS, XMP, ICC, comments) reaches storage.
"""

import io
import secrets
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from common.exceptions import InvalidPhoto, PhotoTooLarge
from common.request_limits import MULTIPART_OVERHEAD_BYTES

ALLOWED_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
# 40 megapixels: more than a phone's default photo (12-24 MP in 2025; the 48-200 MP modes bin
# down to 12 MP unless asked), and a decoded RGB image of at most 120 MB.
MAX_PIXELS = 40_000_000
# Pillow's own decompression-bomb guard, lowered from its 89 MP to ours, for every image this
# process opens: it warns above the limit (a refusal here, see _opened) and refuses above twice.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
MAX_EDGE_PX = 1600
THUMBNAIL_EDGE_PX = 320
JPEG_QUALITY = 85


def upload_body_limit() -> int:
    """The largest request body that carries one photo: the photo and the form around it (the
    request body cap of the views that take one, common/request_limits.py)."""
    return settings.LISTING_PHOTO_MAX_BYTES + MULTIPART_OVERHEAD_BYTES


@dataclass(frozen=True)
class ProcessedPhoto:
    image: bytes  # JPEG, at most MAX_EDGE_PX on its longer side
    thumbnail: bytes  # JPEG, at most THUMBNAIL_EDGE_PX
    width: int
    height: int
    stem: str  # a random file name: the uploaded name is the user's, not ours


def _read_upload(upload) -> bytes:
    limit = settings.LISTING_PHOTO_MAX_BYTES
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise PhotoTooLarge(
            _("This photo is too large: at most %(mb)s MB.") % {"mb": limit // (1024 * 1024)}
        )
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise PhotoTooLarge(
            _("This photo is too large: at most %(mb)s MB.") % {"mb": limit // (1024 * 1024)}
        )
    if not data:
        raise InvalidPhoto(_("The file is empty."))
    return data


def _too_many_pixels() -> PhotoTooLarge:
    return PhotoTooLarge(
        _("This image has too many pixels: at most %(megapixels)s megapixels.")
        % {"megapixels": MAX_PIXELS // 1_000_000}
    )


def _opened(data: bytes) -> Image.Image:
    """Image.open reads the header only; a size over Pillow's limit is refused here (its
    DecompressionBombWarning raised as an error, its DecompressionBombError caught)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            return Image.open(io.BytesIO(data))
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
            raise _too_many_pixels() from exc


def _open_checked(data: bytes) -> Image.Image:
    """The image, decoded only once its header says it is an allowed format of a sane size."""
    try:
        with _opened(data) as probe:
            kind = probe.format
            width, height = probe.size
            if kind not in ALLOWED_FORMATS:
                raise InvalidPhoto()
            if width * height > MAX_PIXELS or width < 1 or height < 1:
                raise _too_many_pixels()
            probe.verify()  # structure check; the image cannot be used after it
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InvalidPhoto() from exc
    try:
        image = _opened(data)
        image.load()
    except (OSError, SyntaxError, ValueError) as exc:
        raise InvalidPhoto() from exc
    return image


def _flatten(image: Image.Image) -> Image.Image:
    """RGB pixels only, transparency on white, and no metadata carried over."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
    else:
        flat = image.convert("RGB")
    clean = Image.new("RGB", flat.size)
    clean.paste(flat)
    return clean


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()


def process_photo(upload) -> ProcessedPhoto:
    """Check an uploaded file is a JPEG, PNG or WebP photo and make it fit to publish.

    Refuses (InvalidPhoto, PhotoTooLarge) files over settings.LISTING_PHOTO_MAX_BYTES,
    files that are not such images, and images of absurd pixel counts. Applies the EXIF
    orientation, then drops all metadata; returns JPEGs of at most 1600 px and 320 px.
    """
    image = _open_checked(_read_upload(upload))
    try:
        upright = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError) as exc:
        raise InvalidPhoto() from exc
    clean = _flatten(upright)
    clean.thumbnail((MAX_EDGE_PX, MAX_EDGE_PX), Image.Resampling.LANCZOS)
    small = clean.copy()
    small.thumbnail((THUMBNAIL_EDGE_PX, THUMBNAIL_EDGE_PX), Image.Resampling.LANCZOS)
    return ProcessedPhoto(
        image=_jpeg(clean),
        thumbnail=_jpeg(small),
        width=clean.width,
        height=clean.height,
        stem=secrets.token_hex(12),
    )
