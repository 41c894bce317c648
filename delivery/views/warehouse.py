"""The warehouse pages of delivery (stub: routes are added by the area's work)."""

urlpatterns = []
