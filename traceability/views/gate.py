"""Pages: gate. (Filled in by the gate work.)"""

urlpatterns: list = []
