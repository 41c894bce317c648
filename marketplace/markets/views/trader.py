"""Pages: trader (being built)."""

urlpatterns: list = []
