"""The shape of a history step in the API: an order's or a task's `events`."""

from rest_framework import serializers


class DeliveryHistoryStepOutputSerializer(serializers.Serializer):
    """One move of the status: when, from what to what, who (as the caller may see them:
    "You", a part such as "Warehouse staff", or a name) and why."""

    status = serializers.CharField(help_text="The status the move went to.")
    status_label = serializers.CharField(source="label")
    from_status = serializers.CharField(help_text="Empty for the first step.")
    at = serializers.DateTimeField()
    by = serializers.CharField()
    why = serializers.CharField()
