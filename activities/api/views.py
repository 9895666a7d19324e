"""`/api/v1/activities/`: calls, meetings, tasks and e-mail notes."""

from django.contrib.auth import get_user_model
from rest_framework import serializers

from accounts.permissions import OWNER_HELP, can_edit
from contacts.models import Contact, Organization
from core.api.base import ServiceViewSet, service_viewset_schema
from core.api.fields import VisibleRelatedField
from core.api.filters import StableOrderingFilterBackend
from opportunities.models import Opportunity

from .. import selectors, services
from ..filters import ActivityFilter
from ..models import Activity


class ActivitySerializer(serializers.ModelSerializer):
    opportunity = VisibleRelatedField(model=Opportunity, required=False, allow_null=True)
    contact = VisibleRelatedField(model=Contact, required=False, allow_null=True)
    organization = VisibleRelatedField(model=Organization, required=False, allow_null=True)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_active=True), required=False, help_text=OWNER_HELP
    )

    class Meta:
        model = Activity
        fields = ["id", *sorted(services.FIELDS), "done", "done_at", "created_at", "updated_at"]
        read_only_fields = ["done", "done_at", "created_at", "updated_at"]
        validators = []


@service_viewset_schema(ActivitySerializer)
class ActivityViewSet(ServiceViewSet):
    serializer_class = ActivitySerializer
    filter_backends = [StableOrderingFilterBackend]
    filterset_class = ActivityFilter
    default_ordering = ["due_at"]
    queryset = Activity.objects.none()
    writable = tuple(services.FIELDS)

    def select_list(self):
        return selectors.activity_list(user=self.request.user)

    def select_one(self, pk):
        return selectors.activity_get(user=self.request.user, pk=pk)

    def can_change(self, obj):
        return can_edit(self.request.user, obj)

    def perform_create(self, data):
        return services.activity_create(user=self.request.user, **data)

    def perform_update(self, obj, data):
        return services.activity_update(activity=obj, user=self.request.user, data=data)

    def perform_archive(self, obj):
        return services.activity_delete(activity=obj, user=self.request.user)
