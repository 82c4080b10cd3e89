from django.urls import path

from fulfillment.api import views

urlpatterns = [
    path("fulfillments/", views.FulfillmentListView.as_view(), name="fulfillment-list"),
    path(
        "fulfillments/<str:number>/",
        views.FulfillmentDetailView.as_view(),
        name="fulfillment-detail",
    ),
    path("fulfillments/<str:number>/accept/", views.AcceptView.as_view()),
    path("fulfillments/<str:number>/reject/", views.RejectView.as_view()),
    path("fulfillments/<str:number>/pick/", views.PickView.as_view()),
    path("fulfillments/<str:number>/pack/", views.PackView.as_view()),
    path("fulfillments/<str:number>/ship/", views.ShipView.as_view()),
    path("fulfillments/<str:number>/deliver/", views.DeliverView.as_view()),
    path("fulfillments/<str:number>/ready/", views.ReadyView.as_view()),
    path("fulfillments/<str:number>/hand-over/", views.HandOverView.as_view()),
]
