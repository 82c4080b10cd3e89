from django.urls import path

from inventory.api import views

urlpatterns = [
    path("inventory/snapshots/", views.SnapshotView.as_view(), name="inventory-snapshot-create"),
    path(
        "inventory/adjustments/",
        views.AdjustmentView.as_view(),
        name="inventory-adjustment-create",
    ),
    path("availability/", views.AvailabilityView.as_view(), name="availability"),
]
