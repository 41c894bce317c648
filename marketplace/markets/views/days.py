"""Pages: days (being built)."""

urlpatterns: list = []
