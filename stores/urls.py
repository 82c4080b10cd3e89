from django.urls import path

from stores import returns_views, views

app_name = "stores"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("login/", views.StoreLoginView.as_view(), name="login"),
    path("logout/", views.StoreLogoutView.as_view(), name="logout"),
    path("fulfillments/<int:pk>/", views.fulfillment_detail, name="fulfillment"),
    path("fulfillments/<int:pk>/start/", views.StartPickingView.as_view(), name="start"),
    path("fulfillments/<int:pk>/pack/", views.ConfirmPickedView.as_view(), name="pack"),
    path("fulfillments/<int:pk>/ready/", views.MarkReadyView.as_view(), name="ready"),
    path("fulfillments/<int:pk>/ship/", views.ShipView.as_view(), name="ship"),
    path("fulfillments/<int:pk>/hand-over/", views.HandOverView.as_view(), name="hand_over"),
    path(
        "fulfillments/<int:pk>/unlock-pickup/",
        views.UnlockPickupView.as_view(),
        name="unlock_pickup",
    ),
    path("fulfillments/<int:pk>/reject/", views.RejectView.as_view(), name="reject"),
    path("returns/", returns_views.returns_list, name="returns"),
    path("returns/<str:rma>/", returns_views.return_detail, name="return"),
    path("returns/<str:rma>/receive/", returns_views.receive_return_view, name="receive_return"),
    path("returns/<str:rma>/inspect/", returns_views.inspect_return_view, name="inspect_return"),
    path(
        "fulfillments/<int:pk>/labels/<int:shipment_id>.pdf",
        views.label_pdf,
        name="label",
    ),
]
