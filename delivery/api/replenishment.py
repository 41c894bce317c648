"""The replenishment API of delivery (stub: routes are added by the area's work)."""

urlpatterns = []
