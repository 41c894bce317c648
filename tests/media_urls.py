"""The site as development serves it (config/urls.py with DEBUG on): every route, plus the
public media folder under MEDIA_URL. Tests run with DEBUG off, so without that route; a test
asking whether a file can be fetched by its /media/ URL sets ROOT_URLCONF to this module."""

from django.conf import settings
from django.urls import re_path
from django.views.static import serve

from config.urls import urlpatterns as site


def media(request, path):
    # The folder is read per request: tests point MEDIA_ROOT at a scratch folder of their own.
    return serve(request, path, document_root=settings.MEDIA_ROOT)


urlpatterns = [
    *site,
    re_path(rf"^{settings.MEDIA_URL.lstrip('/')}(?P<path>.*)$", media),
]
