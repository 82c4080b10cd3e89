from django.urls import path

from channels.api.views import PlatformWebhookView

urlpatterns = [
    path(
        "webhooks/<str:platform>/<slug:channel_code>/",
        PlatformWebhookView.as_view(),
        name="platform-webhook",
    ),
]
