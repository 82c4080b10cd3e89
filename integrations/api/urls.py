from django.urls import path

from integrations.api.views import CarrierTrackingWebhookView
from integrations.api.webhook_subscriptions import (
    WebhookSubscriptionDetailView,
    WebhookSubscriptionListView,
)

urlpatterns = [
    path(
        "webhooks/carriers/<str:fmt>/", CarrierTrackingWebhookView.as_view(), name="carrier-webhook"
    ),
    path(
        "webhook-subscriptions/",
        WebhookSubscriptionListView.as_view(),
        name="webhook-subscription-list",
    ),
    path(
        "webhook-subscriptions/<int:pk>/",
        WebhookSubscriptionDetailView.as_view(),
        name="webhook-subscription-detail",
    ),
]
