"""Pages: counter (being built)."""

urlpatterns: list = []
