"""Pages: journey. (Filled in by the journey work.)"""

urlpatterns: list = []
