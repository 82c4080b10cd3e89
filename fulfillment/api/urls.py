from django.urls import path

from fulfillment.api import views
from fulfillment.api.carrier_webhooks import CarrierTrackingWebhookView
from fulfillment.api.order_actions import OrderCancelView, OrderChangeView, OrderLineCancelView

urlpatterns = [
    path(
        "webhooks/carriers/<ref:fmt>/", CarrierTrackingWebhookView.as_view(), name="carrier-webhook"
    ),
    path("orders/<ref:number>/cancel/", OrderCancelView.as_view(), name="order-cancel"),
    path(
        "orders/<ref:number>/lines/<id:line_number>/cancel/",
        OrderLineCancelView.as_view(),
        name="order-line-cancel",
    ),
    path("orders/<ref:number>/changes/", OrderChangeView.as_view(), name="order-changes"),
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
