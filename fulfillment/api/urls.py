from django.urls import path

from fulfillment.api import views
from fulfillment.api.carrier_webhooks import CarrierTrackingWebhookView

urlpatterns = [
    path(
        "webhooks/carriers/<ref:fmt>/", CarrierTrackingWebhookView.as_view(), name="carrier-webhook"
    ),
    path("fulfillments/", views.FulfillmentListView.as_view(), name="fulfillment-list"),
    path(
        "fulfillments/<ref:number>/",
        views.FulfillmentDetailView.as_view(),
        name="fulfillment-detail",
    ),
    *(
        path(f"fulfillments/<ref:number>/{name}/", view.as_view())
        for name, view in views.FEEDBACK_VIEWS.items()
    ),
]
