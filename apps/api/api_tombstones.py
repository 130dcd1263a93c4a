"""`/api/v1/tombstones/`: the records deleted for real, for a mirror to delete too
(`apps.api.tombstones`). Read-only, scoped, synced like every list (`updated_since` on the
deletion time, the cursor on (deleted_at, id))."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.exceptions import ValidationError

from .filters import UpdatedSinceFilter
from .models import Tombstone
from .tombstones import RESOURCES, tombstone_list
from .views import ApiGenericViewSet

RESOURCE = "resource"


class TombstoneSerializer(serializers.ModelSerializer):
    resource = serializers.CharField(
        read_only=True, help_text=_("The resource the record belonged to, e.g. installments.")
    )
    object_id = serializers.IntegerField(
        read_only=True, help_text=_("The deleted record's id in that resource.")
    )
    external_id = serializers.CharField(
        read_only=True, help_text=_("Its external id, where the resource has one; else empty.")
    )

    class Meta:
        model = Tombstone
        fields = ["id", "resource", "object_id", "external_id", "deleted_at"]
        read_only_fields = fields


def _resources(raw: str | None) -> list[str] | None:
    if raw is None or not raw.strip():
        return None
    names = [name.strip() for name in raw.split(",") if name.strip()]
    unknown = [name for name in names if name not in RESOURCES]
    if unknown:
        raise ValidationError(
            {
                RESOURCE: [
                    _("“%(value)s” is not a resource with tombstones; choose from: %(choices)s.")
                    % {"value": unknown[0], "choices": ", ".join(RESOURCES)}
                ]
            }
        )
    return names


_DESCRIPTION = _(
    "The records that were deleted, so that a system mirroring salesctl deletes them too. Only "
    "a few resources delete records: customers and contacts (in the admin site), installments "
    "(replaced by a contract amendment), targets and target-adjustments (a sales plan's "
    "drafts), delegations, webhooks. Everything else is never deleted but changes "
    "status, which `updated_since` on the resource itself already serves: a reversed payment "
    "(status reversed), a terminated contract, a lost opportunity, a closed lead, a lost "
    "customer. Sync it like any list: `updated_since` (on the deletion time) and the `resume` "
    "link. You see the tombstones of records you could see: company-wide users all of them; "
    "others those of records owned in their data scope or belonging to their org unit, a "
    "delegation only its approver, a webhook only those who manage webhooks."
)


@extend_schema_view(
    list=extend_schema(
        summary=_("Deleted records (tombstones)"),
        description=_DESCRIPTION,
        parameters=[
            OpenApiParameter(
                RESOURCE,
                str,
                description=_(
                    "Only these resources, comma-separated (default: all): customers, "
                    "contacts, installments, targets, target-adjustments, delegations, webhooks."
                ),
            )
        ],
    ),
)
class TombstoneViewSet(mixins.ListModelMixin, ApiGenericViewSet):
    """Tombstones (墓碑) of the records you could see."""

    serializer_class = TombstoneSerializer
    filter_backends = [UpdatedSinceFilter]
    sync_field = "deleted_at"
    cursor_ordering = ("deleted_at", "id")

    def get_queryset(self) -> QuerySet[Tombstone]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Tombstone.objects.none()
        resources = _resources(self.request.query_params.get(RESOURCE))
        return tombstone_list(user=self.request.user, resources=resources)


ROUTES = [("tombstones", TombstoneViewSet, "tombstone")]
