from django.urls import path

from . import views

app_name = "marketplace"

urlpatterns = [
    path("lots/<int:lot_pk>/sell/", views.listing_create, name="listing_create"),
    path("listings/mine/", views.my_listings, name="my_listings"),
    path("listings/<int:pk>/edit/", views.listing_edit, name="listing_edit"),
    path("listings/<int:pk>/<slug:action>/", views.listing_status, name="listing_status"),
    path("produce/", views.search, name="search"),
    path("produce/<int:pk>/", views.listing_detail, name="listing_detail"),
    path("orders/", views.order_list, name="order_list"),
    path("orders/rows/", views.order_rows, name="order_rows"),
    path("orders/<int:pk>/", views.order_detail, name="order_detail"),
    path("orders/<int:pk>/callback/", views.order_callback, name="order_callback"),
    path("orders/<int:pk>/<slug:step>/", views.order_step, name="order_step"),
]
