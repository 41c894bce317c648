"""The API's router: a detail route takes only the form of id its objects have."""

from rest_framework.routers import SimpleRouter

DATABASE_ID = r"[0-9]+"


class ApiRouter(SimpleRouter):
    """DRF's router, with detail routes that match database ids (digits) only.

    DRF's default lookup (`[^/.]+`) hands `/orders/true/` or `/listings/null,null/` to the
    queryset, whose int() conversion fails with a 500; here the URL does not match, and the
    client gets 404. A viewset looked up by something else (a product code, a date)
    declares its own `lookup_value_regex`, and that is used as it stands.
    """

    def get_lookup_regex(self, viewset, lookup_prefix=""):
        if hasattr(viewset, "lookup_value_regex"):
            return super().get_lookup_regex(viewset, lookup_prefix)
        lookup_field = getattr(viewset, "lookup_field", "pk")
        lookup_url_kwarg = getattr(viewset, "lookup_url_kwarg", None) or lookup_field
        return f"(?P<{lookup_prefix}{lookup_url_kwarg}>{DATABASE_ID})"
