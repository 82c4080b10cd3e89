from django.urls import path

from migration.api import views

urlpatterns = [
    path("cutover/<ref:channel_code>/", views.CutoverStatusView.as_view(), name="cutover-status"),
    path(
        "cutover/<ref:channel_code>/legacy-orders/",
        views.LegacyOrderMirrorView.as_view(),
        name="cutover-legacy-orders",
    ),
    path(
        "cutover/<ref:channel_code>/legacy-orders/<ref:external_id>/cancel/",
        views.LegacyOrderCancelView.as_view(),
        name="cutover-legacy-order-cancel",
    ),
]
