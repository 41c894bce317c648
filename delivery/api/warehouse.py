"""The warehouse API of delivery (stub: routes are added by the area's work)."""

urlpatterns = []
