from django.urls import path

from integrations.api.views import CarrierTrackingWebhookView

urlpatterns = [
    path(
        "webhooks/carriers/<str:fmt>/", CarrierTrackingWebhookView.as_view(), name="carrier-webhook"
    ),
]
