"""The cold chain's section of her personal data: the shipments she planned, the handovers
she recorded and the alerts she acknowledged: her work records.

They stay on deletion, pseudonymous: a shipment's temperatures and handovers are the
inspection records of the goods it carried (Food Safety Law art. 50/53/65). Notes that wrote
her name or number, hers or anyone's, keep their sense without them.
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

from .models import Alert, Handover, Shipment, ShipmentEvent

EXPORT_LIMIT = 1000


def export_coldchain(user: User) -> dict[str, Any]:
    return {
        "shipments_planned": [
            shipment.code
            for shipment in Shipment.objects.filter(planned_by=user).order_by("-pk")[:EXPORT_LIMIT]
        ],
        "handovers_recorded": [
            {
                "shipment": handover.shipment.code,
                "kind": handover.kind,
                "decision": handover.decision,
                "note": handover.note,
                "recorded_at": handover.recorded_at.isoformat(),
            }
            for handover in Handover.objects.filter(recorded_by=user)
            .select_related("shipment")
            .order_by("-pk")[:EXPORT_LIMIT]
        ],
        "alerts_acknowledged": [
            {
                "kind": alert.kind,
                "note": alert.acknowledgement_note,
                "acknowledged_at": alert.acknowledged_at.isoformat()
                if alert.acknowledged_at
                else None,
            }
            for alert in Alert.objects.filter(acknowledged_by=user).order_by("-pk")[:EXPORT_LIMIT]
        ],
    }


def erase_coldchain(user: User, pseudonym: str) -> None:
    for rows, field in (
        (Handover.objects.all(), "note"),
        (Alert.objects.all(), "acknowledgement_note"),
        (ShipmentEvent.objects.all(), "reason"),
    ):
        replace_in_text(
            rows,
            fields=[field],
            spellings=phone_spellings(user.phone),
            replacement=mask_phone(user.phone),
        )
        replace_in_text(rows, fields=[field], spellings=name_spellings(user), replacement=pseudonym)


def register() -> None:
    register_section(
        name="coldchain",
        label=gettext_lazy("Cold-chain work records"),
        exporter=export_coldchain,
        eraser=erase_coldchain,
    )
