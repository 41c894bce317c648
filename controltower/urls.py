app_name = "controltower"

urlpatterns: list = []
