from django.urls import path

from webhooks.api.views import WebhookSubscriptionDetailView, WebhookSubscriptionListView

urlpatterns = [
    path(
        "webhook-subscriptions/",
        WebhookSubscriptionListView.as_view(),
        name="webhook-subscription-list",
    ),
    path(
        "webhook-subscriptions/<id:pk>/",
        WebhookSubscriptionDetailView.as_view(),
        name="webhook-subscription-detail",
    ),
]
