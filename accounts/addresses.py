"""The address a request came from, for the audit log and the per-address limits."""

from django.http import HttpRequest


def client_address(request: HttpRequest | None) -> str | None:
    """REMOTE_ADDR: behind the reverse proxy it is the proxy's job to set it (nginx's
    real_ip module from X-Forwarded-For of trusted hops), so a client cannot forge it here."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None
