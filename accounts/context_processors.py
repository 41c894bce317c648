from django.conf import settings

from .display import wants_large_text
from .navigation import navigation_for


def navigation(request) -> dict:
    return {
        "nav_entries": navigation_for(request.user),
        "map_tiles_url": settings.MAP_TILES_URL,
        "map_tiles_attribution": settings.MAP_TILES_ATTRIBUTION,
        "large_text": wants_large_text(request),
    }
