"""Pages: recalls. (Filled in by the recalls work.)"""

urlpatterns: list = []
