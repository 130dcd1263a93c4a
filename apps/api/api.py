"""`/api/v1/tokens/`: API tokens, for integrators to issue and revoke their own (and for
administrators, anyone's). The raw token is in the answer to the POST only."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.models import User
from apps.accounts.selectors import user_list

from .models import ApiToken
from .selectors import token_list
from .serializers import UserRefSerializer
from .services import token_issue, token_revoke
from .views import ApiReadOnlyModelViewSet

MAX_TOKEN_DAYS = 3650


class TokenSerializer(serializers.ModelSerializer):
    user = UserRefSerializer(read_only=True)
    is_usable = serializers.BooleanField(
        read_only=True, help_text=_("Neither revoked nor expired.")
    )

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "user",
            "created_at",
            "expires_at",
            "revoked_at",
            "last_used_at",
            "is_usable",
        ]
        read_only_fields = fields


class TokenIssuedSerializer(TokenSerializer):
    token = serializers.CharField(
        read_only=True,
        help_text=_("The secret to send as `Authorization: Bearer <token>`. Shown only here."),
    )

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "token"]
        read_only_fields = fields


class TokenIssueSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, help_text=_("What the token is for."))
    days = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_TOKEN_DAYS,
        help_text=_("Validity in days; the site default (365) if omitted."),
    )
    user = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.none(),  # set per request: the users the caller may see
        required=False,
        help_text=_("Issue the token for this user (administrators only); yourself if omitted."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["user"].queryset = user_list(user=request.user)


@extend_schema_view(
    list=extend_schema(summary=_("Your API tokens (every token for administrators)")),
    retrieve=extend_schema(summary=_("One API token")),
)
class TokenViewSet(mixins.CreateModelMixin, ApiReadOnlyModelViewSet):
    """API tokens: `Authorization: Bearer <token>` acts as the token's user, with that user's
    role and data scope. Only the owner and administrators see a token."""

    serializer_class = TokenSerializer
    lookup_value_converter = "int"
    cursor_ordering = ("-id",)

    def get_queryset(self) -> QuerySet[ApiToken]:
        return token_list(user=self.request.user)

    @extend_schema(
        summary=_("Issue a token; the answer holds the secret, shown once"),
        request=TokenIssueSerializer,
        responses={status.HTTP_201_CREATED: TokenIssuedSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = TokenIssueSerializer(data=request.data, context=self.get_serializer_context())
        params.is_valid(raise_exception=True)
        data = params.validated_data
        token, raw = token_issue(
            user=data.get("user", request.user),
            name=data["name"],
            days=data.get("days", settings.API_TOKEN_DEFAULT_DAYS),
            by=request.user,
        )
        token.token = raw
        return Response(TokenIssuedSerializer(token).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary=_("Revoke a token: it stops working at once"), request=None)
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        token = token_revoke(token=self.get_object(), by=request.user)
        return Response(TokenSerializer(token).data)
