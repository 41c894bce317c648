"""What a person does about an alert: acknowledge it, saying what is being done."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User

from ..exceptions import AlertAlreadyAcknowledged, ColdChainError
from ..models import Alert
from ..realtime import push_alert


@transaction.atomic
def acknowledge_alert(*, alert: Alert, by: User, note: str) -> Alert:
    """A controller has seen the alert and says what is being done; said once. An alert
    whose excursion late readings disputed is resolved by it: a person has judged it."""
    note = (note or "").strip()
    if not note:
        raise ColdChainError(_("Say what is being done about it."), field="note")
    alert = (
        # Only the alert's row: PostgreSQL cannot lock the nullable side of the outer joins.
        Alert.objects.select_for_update(of=("self",))
        .select_related("shipment__origin", "shipment__destination", "store__site", "excursion")
        .get(pk=alert.pk)
    )
    if alert.acknowledged_at is not None:
        raise AlertAlreadyAcknowledged()
    alert.acknowledged_at = timezone.now()
    alert.acknowledged_by = by
    alert.acknowledgement_note = note[:2000]
    changed = ["acknowledged_at", "acknowledged_by", "acknowledgement_note"]
    if alert.resolved_at is None and alert.excursion is not None and alert.excursion.is_disputed:
        alert.resolved_at = alert.acknowledged_at
        changed.append("resolved_at")
    alert.save(update_fields=changed)
    push_alert(alert, event="alert.updated")
    return alert
