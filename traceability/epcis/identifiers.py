"""The identifiers our EPCIS events use: GS1's where the catalogue or the site has one, else
the platform's own HTTP URIs on SITE_URL.

- What: a lot is an EPC class. With a GTIN on its product it is the GS1 Digital Link LGTIN
  `https://id.gs1.org/01/<GTIN-14>/10/<lot code>`; without, `<SITE_URL>/epcis/lots/<lot code>`.
- Where: a place with a GLN is `https://id.gs1.org/414/<GLN>` (a Digital Link SGLN); every
  other one `<SITE_URL>/epcis/locations/<kind>/<id>` (kind: cooperative, market, site,
  warehouse). A farm is never named: the co-operative stands for it.
- Which event: `<SITE_URL>/epcis/events/<kind>/<id>`, derived from the record, so the same
  event always has the same ID and `GET /epcis/events/{eventID}` finds it again.
- Why: a trade or an order is a business transaction `<SITE_URL>/epcis/transactions/<kind>/<id>`.
"""

from urllib.parse import quote

from django.conf import settings

GS1_RESOLVER = "https://id.gs1.org"


def site_url() -> str:
    return settings.SITE_URL.rstrip("/")


def lot_class(*, gtin: str | None, lot_code: str) -> str:
    """The lot as an EPC class (LGTIN when the product has a GTIN)."""
    if gtin:
        return f"{GS1_RESOLVER}/01/{gtin.zfill(14)}/10/{quote(lot_code, safe='')}"
    return f"{site_url()}/epcis/lots/{quote(lot_code, safe='')}"


def location(kind: str, pk: int, *, gln: str | None = None) -> str:
    if gln:
        return f"{GS1_RESOLVER}/414/{gln}"
    return f"{site_url()}/epcis/locations/{kind}/{pk}"


def location_of(kind: str, place) -> str:
    """A place (a co-operative, a market, a cold-chain site, a warehouse) by its GLN if it
    carries one, else by our URI."""
    return location(kind, place.pk, gln=getattr(place, "gln", None))


def event_id(kind: str, pk: int) -> str:
    return f"{site_url()}/epcis/events/{kind}/{pk}"


def transaction(kind: str, pk: int) -> str:
    return f"{site_url()}/epcis/transactions/{kind}/{pk}"


def event_prefix() -> str:
    return f"{site_url()}/epcis/events/"


def parse_event_id(value: str) -> tuple[str, int] | None:
    """(kind, id) of one of our own event IDs; None for anything else (a partner's)."""
    prefix = event_prefix()
    if not value.startswith(prefix):
        return None
    kind, _slash, pk = value[len(prefix) :].partition("/")
    if not kind or not pk.isdigit() or len(pk) > 18:
        return None
    return kind, int(pk)
