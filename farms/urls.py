from django.urls import path
from django.views.generic import TemplateView

app_name = "farms"

# Placeholder routes, replaced by the farms pages.
_placeholder = TemplateView.as_view(template_name="base.html")
urlpatterns = [
    path("farms/", _placeholder, name="farm_list"),
    path("lots/", _placeholder, name="lot_list"),
    path("lots/new/", _placeholder, name="lot_create"),
    path("members/", _placeholder, name="member_list"),
    path("catalogue/", _placeholder, name="product_list"),
]
