import django_filters

from oms.api.filters import BoundedIsoDateTimeFilter
from orders.models import Order, OrderStatus


class OrderFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=OrderStatus.choices)
    placed_after = BoundedIsoDateTimeFilter(field_name="placed_at", lookup_expr="gte")
    placed_before = BoundedIsoDateTimeFilter(field_name="placed_at", lookup_expr="lt")
    external_id = django_filters.CharFilter()
    email = django_filters.CharFilter(field_name="customer_email", lookup_expr="iexact")

    class Meta:
        model = Order
        fields = ["status", "placed_after", "placed_before", "external_id", "email"]
