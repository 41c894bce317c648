from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from common.views import healthz, metrics, service_worker
from traceability.views.home import urlpatterns as home_urlpatterns

api_patterns = [
    path("", include("accounts.api.urls")),
    path("", include("farms.api.urls")),
    path("", include("marketplace.api.urls")),
    path("coldchain/", include("coldchain.api.urls")),
    path("delivery/", include("delivery.api.urls")),
    path("trace/", include("traceability.api.urls")),
    path("tower/", include("controltower.api.urls")),
    path("tower/", include("controltower.api.risk_urls")),
]

urlpatterns = [
    # Visitors see what FreshChain is; signed-in people go on to their workspace.
    *home_urlpatterns,
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
    path("sw.js", service_worker, name="service_worker"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", include(api_patterns)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("accounts.urls")),
    path("", include("farms.urls")),
    path("", include("marketplace.urls")),
    path("market/", include("marketplace.markets.urls")),
    path("coldchain/", include("coldchain.urls")),
    path("", include("delivery.urls")),
    path("", include("traceability.urls")),
    path("tower/", include("controltower.urls")),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
