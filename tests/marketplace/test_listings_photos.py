"""Photos from a phone: checked to be images, turned upright, resized, stripped of EXIF/GPS."""

import io
import struct
import zlib
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from common.exceptions import InvalidPhoto, PhotoTooLarge
from marketplace.exceptions import TooManyPhotos
from marketplace.models import ListingPhoto
from marketplace.services.listings import MAX_PHOTOS_PER_LISTING, add_listing_photo
from tests.marketplace.factories import ListingFactory

GPS_IFD = 0x8825
ORIENTATION = 0x0112


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def listing(lot):
    return ListingFactory(lot=lot, available_kg=Decimal("60.000"))


def _jpeg_with_gps(*, size=(2400, 1200), orientation=None) -> bytes:
    """A camera-like JPEG: EXIF with the GPS position of a farmhouse, and a maker."""
    image = Image.new("RGB", size, (40, 160, 60))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    if orientation:
        exif[ORIENTATION] = orientation
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (36.0, 51.0, 36.0), 3: "E", 4: (118.0, 47.0, 24.0)})
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def _upload(data: bytes, name="IMG_0001.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def _files(root):
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_test_photo_really_carries_gps():
    exif = Image.open(io.BytesIO(_jpeg_with_gps())).getexif()
    assert exif.get_ifd(GPS_IFD)


def test_photo_is_stored_resized_without_exif_or_gps(member, listing, media_root):
    photo = add_listing_photo(
        added_by=member, listing_id=listing.pk, upload=_upload(_jpeg_with_gps())
    )

    photo.refresh_from_db()
    with Image.open(photo.image.path) as stored:
        assert stored.format == "JPEG"
        assert stored.size == (1600, 800)
        assert len(stored.getexif()) == 0
        assert "exif" not in stored.info
        assert b"PhoneMaker" not in Path(photo.image.path).read_bytes()
    with Image.open(photo.thumbnail.path) as thumbnail:
        assert thumbnail.size == (320, 160)
        assert len(thumbnail.getexif()) == 0
    assert (photo.width, photo.height) == (1600, 800)
    assert "IMG_0001" not in photo.image.name


def test_exif_orientation_is_applied(member, listing):
    # Orientation 6: the camera was turned; the upright photo is taller than wide.
    upload = _upload(_jpeg_with_gps(size=(800, 400), orientation=6))

    photo = add_listing_photo(added_by=member, listing_id=listing.pk, upload=upload)

    assert (photo.width, photo.height) == (400, 800)


def test_png_with_transparency_is_accepted(member, listing):
    out = io.BytesIO()
    Image.new("RGBA", (300, 200), (255, 0, 0, 0)).save(out, format="PNG")

    photo = add_listing_photo(
        added_by=member, listing_id=listing.pk, upload=_upload(out.getvalue(), "a.png")
    )

    assert (photo.width, photo.height) == (300, 200)


def test_text_file_named_jpg_is_refused_and_nothing_saved(member, listing, media_root):
    with pytest.raises(InvalidPhoto) as refused:
        add_listing_photo(
            added_by=member, listing_id=listing.pk, upload=_upload(b"not a photo at all\n" * 50)
        )

    assert refused.value.field == "image"
    assert ListingPhoto.objects.count() == 0
    assert _files(media_root) == []


def test_gif_is_refused(member, listing, media_root):
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, format="GIF")

    with pytest.raises(InvalidPhoto):
        add_listing_photo(
            added_by=member, listing_id=listing.pk, upload=_upload(out.getvalue(), "a.gif")
        )

    assert ListingPhoto.objects.count() == 0


def test_too_large_file_is_refused_and_nothing_saved(member, listing, settings, media_root):
    settings.LISTING_PHOTO_MAX_BYTES = 10_000

    with pytest.raises(PhotoTooLarge):
        add_listing_photo(added_by=member, listing_id=listing.pk, upload=_upload(_jpeg_with_gps()))

    assert ListingPhoto.objects.count() == 0
    assert _files(media_root) == []


def test_absurd_pixel_count_is_refused(member, listing, monkeypatch):
    monkeypatch.setattr("common.photos.MAX_PIXELS", 1000)
    upload = _upload(_jpeg_with_gps(size=(100, 100)))

    with pytest.raises(PhotoTooLarge):
        add_listing_photo(added_by=member, listing_id=listing.pk, upload=upload)

    assert ListingPhoto.objects.count() == 0


def test_photos_are_limited_per_listing(member, listing):
    small = _jpeg_with_gps(size=(40, 30))
    for _ in range(MAX_PHOTOS_PER_LISTING):
        add_listing_photo(added_by=member, listing_id=listing.pk, upload=_upload(small))

    with pytest.raises(TooManyPhotos):
        add_listing_photo(added_by=member, listing_id=listing.pk, upload=_upload(small))

    assert listing.photos.count() == MAX_PHOTOS_PER_LISTING


def test_api_upload_shows_the_thumbnail_in_search(api_as, member, buyer, listing):
    response = api_as(member).post(
        f"/api/listings/{listing.pk}/photos/",
        {"image": _upload(_jpeg_with_gps())},
        format="multipart",
    )

    assert response.status_code == 201, response.content
    assert response.json()["width"] == 1600
    row = api_as(buyer).get("/api/listings/").json()["results"][0]
    assert row["thumbnail_url"] == response.json()["thumbnail_url"]
    assert row["thumbnail_url"].startswith("/media/listings/")


def test_api_refuses_a_non_image_with_400(api_as, member, listing):
    response = api_as(member).post(
        f"/api/listings/{listing.pk}/photos/",
        {"image": _upload(b"%PDF-1.4 not an image")},
        format="multipart",
    )

    assert response.status_code == 400
    assert "image" in response.json()
    assert ListingPhoto.objects.count() == 0


# --- Checked before decoding: the listing's room, the file's size, the pixel count ----------


def _png(width: int, height: int, *, truncated: bool = False) -> bytes:
    """A grey PNG of width x height; `truncated`, only its header and a few stray bytes, so
    decoding it fails: a refusal for any other reason shows it was not decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = b"\x89PNG\r\n\x1a\n" + chunk(
        b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    )
    if truncated:
        return header + b"\x00" * 64
    compressor = zlib.compressobj(9)
    row = b"\x00" * (width + 1)  # filter byte, then the row's grey values
    pixels = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return header + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


@pytest.fixture
def full_listing(member, listing):
    small = _jpeg_with_gps(size=(40, 30))
    for _ in range(MAX_PHOTOS_PER_LISTING):
        add_listing_photo(added_by=member, listing_id=listing.pk, upload=_upload(small))
    return listing


def test_a_seventh_photo_is_refused_before_it_is_decoded(member, full_listing):
    bomb = _upload(_png(7000, 7000, truncated=True), "bomb.png", "image/png")

    with pytest.raises(TooManyPhotos):
        add_listing_photo(added_by=member, listing_id=full_listing.pk, upload=bomb)

    assert full_listing.photos.count() == MAX_PHOTOS_PER_LISTING


def test_the_api_answers_a_seventh_photo_with_the_count_error(api_as, member, full_listing):
    response = api_as(member).post(
        f"/api/listings/{full_listing.pk}/photos/",
        {"image": _upload(_png(7000, 7000, truncated=True), "bomb.png", "image/png")},
        format="multipart",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 409
    assert response.json() == {"image": ["A listing has at most 6 photos."]}


def test_the_edit_page_answers_a_seventh_photo_with_the_count_error(member, full_listing):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(member)
    upload = io.BytesIO(_png(7000, 7000, truncated=True))
    upload.name = "bomb.png"

    response = client.post(
        f"/listings/{full_listing.pk}/edit/",
        {
            "price": "4.80",
            "quantity": "40",
            "minimum_order": "2",
            "available_until": (timezone.localdate() + timedelta(days=2)).isoformat(),
            "photo": upload,
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors["photo"] == ["A listing has at most 6 photos."]
    assert full_listing.photos.count() == MAX_PHOTOS_PER_LISTING


@pytest.mark.parametrize(
    ("width", "height"),
    [(7000, 7000), (10000, 10000)],  # 49 MP (Pillow warns) and 100 MP (Pillow refuses)
)
def test_an_image_of_too_many_pixels_is_refused_with_a_field_error(
    api_as, member, listing, media_root, width, height
):
    response = api_as(member).post(
        f"/api/listings/{listing.pk}/photos/",
        {"image": _upload(_png(width, height), "big.png", "image/png")},
        format="multipart",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 400
    assert response.json() == {"image": ["This image has too many pixels: at most 40 megapixels."]}
    assert ListingPhoto.objects.count() == 0
    assert _files(media_root) == []
