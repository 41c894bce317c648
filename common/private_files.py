"""Private files: stored outside the public media folder and handed out only by views that
have checked who is asking.

Handover logger records (every reading and the truck's GPS trail) and couriers' photos of a
delivery at a consumer's door are not for the world. They live under PRIVATE_MEDIA_ROOT, which
no URL maps to; a model field puts them there with `storage=private_storage`. A view finds the
object through the visibility selector of its app (404 for anyone else) and answers with
`private_file_response`:

- in development (PRIVATE_MEDIA_ACCEL_PREFIX empty) Django streams the file itself;
- in production nginx does: the view answers with an empty body and an `X-Accel-Redirect`
  header naming the file under the prefix, which nginx maps to PRIVATE_MEDIA_ROOT in an
  `internal` location that no client can ask for directly (README, "Running beyond one
  machine"). Content-Type and Content-Disposition come from the view's answer.
"""

from pathlib import PurePosixPath
from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.deconstruct import deconstructible
from django.utils.functional import cached_property
from django.utils.http import content_disposition_header


@deconstructible(path="common.private_files.PrivateFileStorage")
class PrivateFileStorage(FileSystemStorage):
    """Files under settings.PRIVATE_MEDIA_ROOT (read when first used, and again when a test
    changes the setting). They have no URL: asking for one is a bug, not a link to print."""

    @cached_property
    def base_location(self):
        return self._value_or_setting(self._location, settings.PRIVATE_MEDIA_ROOT)

    def _clear_cached_properties(self, setting, **kwargs):
        if setting == "PRIVATE_MEDIA_ROOT":
            self.__dict__.pop("base_location", None)
            self.__dict__.pop("location", None)
        elif setting != "MEDIA_ROOT":  # the public root is not ours
            super()._clear_cached_properties(setting, **kwargs)

    def url(self, name):
        raise ValueError("A private file has no URL; link to the view that checks access.")


def private_storage():
    """The storage of private files (STORAGES["private"]); a callable, so that a model field
    refers to it by name and the instance is looked up when the models load."""
    return storages["private"]


def private_file_response(
    file: FieldFile, *, filename: str, content_type: str, as_attachment: bool = True
) -> HttpResponseBase:
    """The file to someone already allowed to have it; 404 when there is none (the same answer
    the caller gives to someone not allowed, so the two cannot be told apart)."""
    name = file.name if file else None
    if not name or not file.storage.exists(name):
        raise Http404
    prefix = settings.PRIVATE_MEDIA_ACCEL_PREFIX
    if not prefix:
        return FileResponse(
            file.open("rb"),
            as_attachment=as_attachment,
            filename=filename,
            content_type=content_type,
        )
    response = HttpResponse(content_type=content_type)
    response["X-Accel-Redirect"] = quote(f"{prefix.rstrip('/')}/{PurePosixPath(name)}")
    disposition = content_disposition_header(as_attachment, filename)
    if disposition is not None:  # None only for an inline file without a name
        response["Content-Disposition"] = disposition
    return response
