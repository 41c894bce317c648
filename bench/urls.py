"""The project's URLs plus the plain baseline views the benchmarks compare against."""

from django.urls import path

from bench import views
from config.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("bench/plain/products/", views.plain_product_list),
    *project_urlpatterns,
]
