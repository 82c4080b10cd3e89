from django.urls import path

from migration.api import views

urlpatterns = [
    path("cutover/<ref:channel_code>/", views.CutoverStatusView.as_view(), name="cutover-status"),
    path(
        "cutover/<ref:channel_code>/legacy-orders/",
        views.LegacyOrderMirrorView.as_view(),
        name="cutover-legacy-orders",
    ),
]
