"""Traceability's section of her personal data: the certificates she issued, the recalls
that told her, her acknowledgements, and where a recall's scope names her as a holder.

All of it stays on deletion, pseudonymous: certificates and recall records are the food
safety records of the lots (Food Safety Law art. 50/53/65: kept at least six months after
the shelf life, two years when there is none), and a recall must still find which orders a
lot reached. Her name and number inside them are replaced (a certificate's producer keeps
its co-operative, lot and tests). Public trace-page scans were never personal (no account,
a hashed address, a place rounded to 10 km).
"""

from typing import Any

from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.personal_data import (
    name_spellings,
    phone_spellings,
    register_section,
    replace_in_text,
)
from accounts.phone import mask_phone

from .models import Certificate, Recall, RecallDisposition, RecallNotice, RecallScopeRow

EXPORT_LIMIT = 1000


def export_traceability(user: User) -> dict[str, Any]:
    return {
        "certificates_issued": [
            {
                "id": certificate.pk,
                "product": certificate.product_name,
                "producer": certificate.producer_name,
                "contact": certificate.producer_contact,
                "issued_on": certificate.issued_on.isoformat(),
            }
            for certificate in Certificate.objects.filter(issued_by=user).order_by("-pk")[
                :EXPORT_LIMIT
            ]
        ],
        "recall_notices": [
            {
                "recall": notice.recall_id,
                "reason": notice.recall.reason,
                "notified_at": notice.notified_at.isoformat(),
                "acknowledged_at": notice.acknowledged_at.isoformat()
                if notice.acknowledged_at
                else None,
                "note": notice.acknowledgement_note,
            }
            for notice in RecallNotice.objects.filter(user=user)
            .select_related("recall")
            .order_by("-pk")[:EXPORT_LIMIT]
        ],
        "recall_scope_rows": [
            {
                "recall": row.recall_id,
                "kind": row.kind,
                "holder": row.holder,
                "reference": row.reference,
                "quantity_kg": str(row.quantity_kg),
            }
            for row in RecallScopeRow.objects.filter(party_user=user).order_by("-pk")[:EXPORT_LIMIT]
        ],
    }


def erase_traceability(user: User, pseudonym: str) -> None:
    numbers, names = phone_spellings(user.phone), name_spellings(user)
    masked = mask_phone(user.phone)
    for rows, fields in (
        (Certificate.objects.all(), ["producer_name", "producer_contact", "origin"]),
        (RecallScopeRow.objects.all(), ["holder"]),
        (RecallNotice.objects.all(), ["acknowledgement_note"]),
        (RecallDisposition.objects.all(), ["note"]),
        (Recall.objects.all(), ["reason", "close_note"]),
    ):
        replace_in_text(rows, fields=fields, spellings=numbers, replacement=masked)
        replace_in_text(rows, fields=fields, spellings=names, replacement=pseudonym)
    RecallScopeRow.objects.filter(party_user=user).update(holder=pseudonym)


def register() -> None:
    register_section(
        name="traceability",
        label=gettext_lazy("Certificates and recalls"),
        exporter=export_traceability,
        eraser=erase_traceability,
    )
