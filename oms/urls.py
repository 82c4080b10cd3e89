from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from oms.api.views import healthz
from oms.observability import views as observability

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    # Inventory's three literal paths first: availability, on every storefront page, no longer
    # tries the order, fulfillment and webhook patterns before its own (none of theirs is one
    # of these paths, so no route changes).
    path("api/v1/", include("inventory.api.urls")),
    path("api/v1/", include("orders.api.urls")),
    path("api/v1/", include("fulfillment.api.urls")),
    path("api/v1/", include("webhooks.api.urls")),
    path("api/v1/", include("returns.api.urls")),
    path("api/v1/", include("migration.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("healthz", healthz, name="healthz"),
    path("readyz", observability.readyz, name="readyz"),
    path("metrics", observability.metrics, name="metrics"),
    path("store/", include("stores.urls")),
    path("", include("channels.api.urls")),
]

# Under /api/, Django's own error pages answer in the API's error shape (docs/api.md, Errors).
handler400 = "oms.api.views.bad_request"
handler403 = "oms.api.views.permission_denied"
handler404 = "oms.api.views.page_not_found"
handler500 = "oms.api.views.server_error"
