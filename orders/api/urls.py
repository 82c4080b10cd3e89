from django.urls import path

from orders.api import views

urlpatterns = [
    path("orders/", views.OrderListCreateView.as_view(), name="order-list"),
    path("orders/<str:number>/", views.OrderDetailView.as_view(), name="order-detail"),
    path("orders/<str:number>/events/", views.OrderEventsView.as_view(), name="order-events"),
    path("orders/<str:number>/holds/", views.OrderHoldsView.as_view(), name="order-holds"),
    path(
        "orders/<str:number>/holds/<int:hold_id>/release/",
        views.OrderHoldReleaseView.as_view(),
        name="order-hold-release",
    ),
]
