"""What the platform holds about a person, app by app: the registry behind her "My data" page.

PIPL art. 45 (a copy of her data) and art. 47 (deletion) need every app's part, but accounts
is the bottom layer and may not import the apps above it. So each app registers a *section*
from its AppConfig.ready():

- an exporter `(user) -> dict`: what this app holds about her, as JSON-ready values;
- an eraser `(user, pseudonym) -> None`: replaces her personal fields (names, phones,
  addresses, free text about her) with the pseudonym or nothing, keeping amounts, lots,
  quantities and ids, which the law's retention duties and the ledger's hash chain need;
- optionally a blocker `(user) -> str | None`: why her account cannot be deleted now
  (money in her wallet, an order still on its way), in her language.

Sections run in the order they were registered (accounts first, the apps above it after).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import F, Value
from django.db.models.functions import Cast, Replace
from django.utils.functional import Promise

from .models import User

Exporter = Callable[[User], dict[str, Any]]
Eraser = Callable[[User, str], None]
Blocker = Callable[[User], str | None]


@dataclass(frozen=True)
class PersonalDataSection:
    name: str  # a stable key: the JSON export's top-level key
    label: str | Promise  # what her page calls it
    exporter: Exporter
    eraser: Eraser
    blocker: Blocker | None = None


_sections: dict[str, PersonalDataSection] = {}


def register_section(
    *,
    name: str,
    label: str | Promise,
    exporter: Exporter,
    eraser: Eraser,
    blocker: Blocker | None = None,
) -> PersonalDataSection:
    """Add (or, when ready() runs again, replace) an app's section."""
    section = PersonalDataSection(
        name=name, label=label, exporter=exporter, eraser=eraser, blocker=blocker
    )
    _sections[name] = section
    return section


def personal_data_sections() -> tuple[PersonalDataSection, ...]:
    return tuple(_sections.values())


def phone_spellings(phone: str | None) -> list[str]:
    """Every way her number is written in our rows: +8613800138000, 8613800138000,
    13800138000 (the bare 11 digits are a substring of the others)."""
    if not phone:
        return []
    digits = phone.removeprefix("+86")
    return [f"+86{digits}", f"86{digits}", digits]


def name_spellings(user: User) -> list[str]:
    """Her names as other rows may have copied them (str(user), full name, display name),
    longest first so a longer spelling is replaced before its parts."""
    names = {
        user.display_name,
        user.get_full_name(),
        f"{user.last_name}{user.first_name}",  # Chinese order, no space
        user.first_name,
        user.last_name,
        str(user),  # her username when she gave no name
    }
    # One character would match too much unrelated text.
    return sorted((n.strip() for n in names if n and len(n.strip()) >= 2), key=len, reverse=True)


def replace_in_text(
    rows: models.QuerySet, *, fields: list[str], spellings: list[str], replacement: str
) -> int:
    """Replace each spelling by `replacement` inside the text (char, text or JSON) `fields` of
    `rows`: free text that copied her name or number (a notification naming her) keeps
    what it said about the order. Returns how many rows were changed."""
    changed = 0
    model = rows.model
    for field_name in fields:
        field = model._meta.get_field(field_name)
        is_json = isinstance(field, models.JSONField)
        for spelling in spellings:
            if is_json:
                # Names and digits are written the same inside JSON text (no escapes).
                holding = rows.annotate(_as_text=Cast(F(field_name), models.TextField())).filter(
                    _as_text__contains=spelling
                )
                new_value: Any = Cast(
                    Replace(
                        Cast(F(field_name), models.TextField()),
                        Value(spelling),
                        Value(replacement),
                    ),
                    models.JSONField(),
                )
                changed += model._default_manager.filter(pk__in=holding.values("pk")).update(
                    **{field_name: new_value}
                )
            else:
                new_value = Replace(F(field_name), Value(spelling), Value(replacement))
                changed += rows.filter(**{f"{field_name}__contains": spelling}).update(
                    **{field_name: new_value}
                )
    return changed
