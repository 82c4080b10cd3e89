from django.urls import path

from orders.api import views

urlpatterns = [
    path("orders/", views.OrderListCreateView.as_view(), name="order-list"),
    path("orders/<ref:number>/", views.OrderDetailView.as_view(), name="order-detail"),
    path("orders/<ref:number>/events/", views.OrderEventsView.as_view(), name="order-events"),
    path("orders/<ref:number>/holds/", views.OrderHoldsView.as_view(), name="order-holds"),
    path(
        "orders/<ref:number>/holds/<id:hold_id>/release/",
        views.OrderHoldReleaseView.as_view(),
        name="order-hold-release",
    ),
]
