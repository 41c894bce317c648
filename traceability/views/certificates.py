"""Pages: certificates. (Filled in by the certificates work.)"""

urlpatterns: list = []
