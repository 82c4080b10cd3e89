from django.urls import path

from returns.api import views

urlpatterns = [
    path("orders/<str:number>/returns/", views.OrderReturnsView.as_view(), name="order-returns"),
    path("returns/<str:rma>/", views.ReturnDetailView.as_view(), name="return-detail"),
    path("returns/<str:rma>/cancel/", views.ReturnCancelView.as_view(), name="return-cancel"),
    path("returns/<str:rma>/refunds/", views.ReturnRefundsView.as_view(), name="return-refunds"),
    path("returns/<str:rma>/receive/", views.ReturnReceiveView.as_view(), name="return-receive"),
    path("returns/<str:rma>/inspect/", views.ReturnInspectView.as_view(), name="return-inspect"),
]
