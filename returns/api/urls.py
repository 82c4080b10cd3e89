from django.urls import path

from returns.api import views

urlpatterns = [
    path("orders/<ref:number>/returns/", views.OrderReturnsView.as_view(), name="order-returns"),
    path("returns/<ref:rma>/", views.ReturnDetailView.as_view(), name="return-detail"),
    path("returns/<ref:rma>/cancel/", views.ReturnCancelView.as_view(), name="return-cancel"),
    path(
        "returns/<ref:rma>/in-transit/",
        views.ReturnInTransitView.as_view(),
        name="return-in-transit",
    ),
    path("returns/<ref:rma>/refunds/", views.ReturnRefundsView.as_view(), name="return-refunds"),
    path("returns/<ref:rma>/receive/", views.ReturnReceiveView.as_view(), name="return-receive"),
    path("returns/<ref:rma>/inspect/", views.ReturnInspectView.as_view(), name="return-inspect"),
]
