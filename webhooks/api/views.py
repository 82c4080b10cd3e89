"""Webhook subscriptions for operations staff: GET/POST /api/v1/webhook-subscriptions/,
GET/PATCH/DELETE /api/v1/webhook-subscriptions/{id}/.

Staff users in the ops_admin group (or superusers) with a session; channel API keys are not
accepted here (403). The secret is in the response to POST only. Rules live in
webhooks/subscriptions.py.
"""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations.models import WebhookSubscription
from oms.api.serializers import StrictInputSerializer
from oms.core.errors import NotFound
from webhooks import subscriptions as service

OPS_ADMIN = "ops_admin"


class IsOpsAdmin(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_staff):
            return False
        return bool(user.is_superuser or user.groups.filter(name=OPS_ADMIN).exists())


class SubscriptionSerializer(serializers.ModelSerializer):
    channel = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = WebhookSubscription
        fields = (
            "id",
            "name",
            "url",
            "event_types",
            "channel",
            "is_active",
            "disabled_reason",
            "created_at",
            "updated_at",
        )


class SubscriptionInputSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    url = serializers.CharField(max_length=2000)
    event_types = serializers.ListField(child=serializers.CharField(max_length=100), max_length=100)
    channel = serializers.CharField(max_length=50, required=False, allow_null=True)
    is_active = serializers.BooleanField(required=False)


class _StaffView(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated, IsOpsAdmin]


class WebhookSubscriptionListView(_StaffView):
    @extend_schema(
        summary="List webhook subscriptions",
        tags=["webhooks"],
        responses={200: SubscriptionSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        subs = WebhookSubscription.objects.select_related("channel").order_by("id")
        return Response(SubscriptionSerializer(subs, many=True).data)

    @extend_schema(
        summary="Subscribe (the secret is in this response only)",
        tags=["webhooks"],
        request=SubscriptionInputSerializer,
        responses={201: SubscriptionSerializer},
    )
    def post(self, request: Request) -> Response:
        data = SubscriptionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        sub = service.create_subscription(
            name=values.get("name", ""),
            url=values["url"],
            event_types=values["event_types"],
            channel_code=values.get("channel"),
            is_active=values.get("is_active", True),
            created_by=request.user,
        )
        body = dict(SubscriptionSerializer(sub).data)
        body["secret"] = sub.secret  # shown this once
        return Response(body, status=status.HTTP_201_CREATED)


class WebhookSubscriptionDetailView(_StaffView):
    def _get(self, pk: int) -> WebhookSubscription:
        sub = WebhookSubscription.objects.select_related("channel").filter(pk=pk).first()
        if sub is None:
            raise NotFound("No such webhook subscription.")
        return sub

    @extend_schema(
        summary="One webhook subscription",
        tags=["webhooks"],
        responses={200: SubscriptionSerializer},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(SubscriptionSerializer(self._get(pk)).data)

    @extend_schema(
        summary="Change a subscription",
        tags=["webhooks"],
        request=SubscriptionInputSerializer,
        responses={200: SubscriptionSerializer},
    )
    def patch(self, request: Request, pk: int) -> Response:
        data = SubscriptionInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if "channel" in values:
            values["channel_code"] = values.pop("channel")
        sub = service.update_subscription(self._get(pk).pk, **values)
        return Response(SubscriptionSerializer(sub).data)

    @extend_schema(summary="Delete a subscription", tags=["webhooks"], responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        service.delete_subscription(self._get(pk).pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
