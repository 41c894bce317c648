"""Reading identifiers a partner sent: which of our lots an EPC or EPC class URI names, and every identifier an event names.

Three forms name a lot (a GTIN with a batch/lot number, or the platform's own lot URI):

- a GS1 Digital Link on any host, `https://id.gs1.org/01/<gtin>/10/<lot>`, optionally with a
  consumer product variant (`/22/…`) before the lot and a serial (`/21/…`) after it;
- an LGTIN URN, `urn:epc:class:lgtin:<company prefix>.<indicator><item reference>.<lot>`
  (the GTIN-14 is rebuilt from it, check digit included);
- the platform's own URI, `<SITE_URL>/epcis/lots/<lot code>`, for lots whose product has no
  GTIN (the form the export uses too).

Anything else (an SSCC, an SGLN, a GIAI, an SGTIN without lot) names no lot: it may sit beside
one of ours in an event, but an event must name at least one.
"""

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from farms.models.catalogue import gtin_check_digit

from .identifiers import lot_class, site_url

PLATFORM_LOT_PATH = "/epcis/lots/"
DIGITAL_LINK_LOT = re.compile(
    r"/01/(?P<gtin>[0-9]{8,14})(?:/22/[^/]+)?/10/(?P<lot>[^/?#]+)(?:/21/[^/?#]+)?/?$"
)
LGTIN = re.compile(r"^urn:epc:class:lgtin:(?P<prefix>[0-9]+)\.(?P<item>[0-9]+)\.(?P<lot>.+)$")

# Where an event names EPCs (a list of URIs) and EPC classes (in quantity elements).
EPC_LISTS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
QUANTITY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")


@dataclass(frozen=True)
class LotRef:
    """A lot as an identifier names it: by lot code, and the GTIN-14 when the form has one."""

    lot_code: str
    gtin: str = ""  # 14 digits, "" for the platform's own URI


def platform_lot_uri(lot_code: str) -> str:
    """The platform's own URI of a lot, as the export writes it (identifiers.lot_class)."""
    return lot_class(gtin=None, lot_code=lot_code)


def lot_ref_of(uri: str) -> LotRef | None:
    """The lot a URI names, or None when it names no lot in a form we read."""
    if not isinstance(uri, str):
        return None
    found = LGTIN.match(uri)
    if found:
        prefix, item = found["prefix"], found["item"]
        if len(prefix) + len(item) != 13 or not item:
            return None
        body = item[0] + prefix + item[1:]
        return LotRef(lot_code=unquote(found["lot"]), gtin=body + gtin_check_digit(body))
    if not uri.startswith(("http://", "https://")):
        return None
    own = site_url() + PLATFORM_LOT_PATH
    if uri.startswith(own):
        code = uri[len(own) :].strip("/")
        return LotRef(lot_code=unquote(code)) if code and "/" not in code else None
    found = DIGITAL_LINK_LOT.search(urlsplit(uri).path)
    if found:
        return LotRef(lot_code=unquote(found["lot"]), gtin=found["gtin"].zfill(14))
    return None


def identifiers_of(event: dict) -> list[str]:
    """Every EPC and EPC class the event names, in document order, each once."""
    found: list[str] = []
    parent = event.get("parentID")
    if isinstance(parent, str):
        found.append(parent)
    for name in EPC_LISTS:
        found.extend(uri for uri in event.get(name) or [] if isinstance(uri, str))
    found.extend(
        element["epcClass"]
        for _name, _index, element in quantity_elements(event)
        if isinstance(element.get("epcClass"), str)
    )
    return list(dict.fromkeys(found))


def quantity_elements(event: dict):
    """(list name, index, element) of each quantity element the event holds."""
    for name in QUANTITY_LISTS:
        for index, element in enumerate(event.get(name) or []):
            if isinstance(element, dict):
                yield name, index, element


def where_named(event: dict, uri: str | None = None) -> str:
    """The field (a JSON pointer in the event) naming `uri`, or, without one, the first list
    of what the event is about ("epcList" when it has none)."""
    if uri is not None and event.get("parentID") == uri:
        return "parentID"
    for name in EPC_LISTS:
        items = event.get(name) or []
        if uri is None and items:
            return name
        if uri is not None and uri in items:
            return f"{name}/{items.index(uri)}"
    for name, index, element in quantity_elements(event):
        if uri is None or element.get("epcClass") == uri:
            return f"{name}/{index}/epcClass" if uri is not None else name
    return "parentID" if uri is None and event.get("parentID") else "epcList"
