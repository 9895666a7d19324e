"""`/api/v1/organizations/` and `/api/v1/contacts/`: selectors to read, services to write."""

import django_filters
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers

from accounts.permissions import OWNER_HELP, can_edit
from core.api.archive import RestorePurgeMixin, restore_purge_schema
from core.api.base import IDEMPOTENCY_KEY, WRITE_ERRORS, ServiceViewSet, service_viewset_schema
from core.api.fields import VisibleRelatedField
from core.api.filters import StableOrderingFilterBackend
from core.filters import PlausibleIsoDateTimeFilter
from customfields.api.fields import CustomFieldsField
from dedupe.api.duplicates import ALLOW_DUPLICATE, DUPLICATE_RESPONSE, refuse_duplicates
from search import specs as search_specs
from search.text import SEARCH_HELP
from search.text import match_q as search_match_q
from tags.api.fields import TagsField
from tags.services import tags_resolve, tags_set

from .. import selectors, services
from ..filters import ContactFilter, OrganizationFilter
from ..models import Contact, Organization

User = get_user_model()
EDITABLE_EXCLUDE = {"id", "created_at", "updated_at", "archived_at"}


class OrganizationSerializer(serializers.ModelSerializer):
    parent = VisibleRelatedField(model=Organization, required=False, allow_null=True)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, help_text=OWNER_HELP
    )
    archived = serializers.BooleanField(source="is_archived", read_only=True)
    custom_fields = CustomFieldsField()
    tags = TagsField()

    class Meta:
        model = Organization
        exclude = ["archived_at"]
        read_only_fields = ["created_at", "updated_at"]
        validators = []


class ContactSerializer(serializers.ModelSerializer):
    organization = VisibleRelatedField(model=Organization, required=False, allow_null=True)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, help_text=OWNER_HELP
    )
    archived = serializers.BooleanField(source="is_archived", read_only=True)
    custom_fields = CustomFieldsField()
    tags = TagsField()

    class Meta:
        model = Contact
        exclude = ["archived_at"]
        read_only_fields = ["created_at", "updated_at"]
        validators = []


class ApiOrganizationFilter(OrganizationFilter):
    search = django_filters.CharFilter(method="search_indexed", help_text=SEARCH_HELP)
    updated_since = PlausibleIsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    ordering = django_filters.OrderingFilter(fields=("name", "created_at", "updated_at", "city"))


class ApiContactFilter(ContactFilter):
    search = django_filters.CharFilter(method="search_indexed", help_text=SEARCH_HELP)
    updated_since = PlausibleIsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    ordering = django_filters.OrderingFilter(fields=("last_name", "first_name", "created_at", "updated_at"))


def _search_indexed(spec):
    def method(self, queryset, name, value):
        return queryset.filter(search_match_q(spec, value) or Q(pk__in=[]))

    return method


ApiOrganizationFilter.search_indexed = _search_indexed(search_specs.ORGANIZATION)
ApiContactFilter.search_indexed = _search_indexed(search_specs.CONTACT)


def _create_schema(serializer):
    """Create documents the duplicate check: ``?allow_duplicate=true`` and the 409 with candidates."""
    return extend_schema_view(
        create=extend_schema(
            parameters=[IDEMPOTENCY_KEY, ALLOW_DUPLICATE],
            responses={201: serializer, **WRITE_ERRORS, 409: DUPLICATE_RESPONSE},
        )
    )


def _writable(model):
    return (
        *(
            f.name
            for f in model._meta.concrete_fields
            if f.editable and f.name not in EDITABLE_EXCLUDE and not f.primary_key
        ),
        "custom_fields",  # not editable as a model field: the service validates it (customfields)
        "tags",  # the tags service writes them (_with_tags)
    )


def _with_tags(request, data: dict, write):
    """Run ``write(data)`` (a record's service) and then set its tags, when ``data`` names them: the
    names are checked first (a 400 naming ``tags`` before anything changes), both in one transaction."""
    names = data.pop("tags", None)
    tags = tags_resolve(names) if names is not None else None
    with transaction.atomic():
        record = write(data)
        if tags is not None:
            tags_set(record, tags, request.user)
    return record


@_create_schema(OrganizationSerializer)
@service_viewset_schema(OrganizationSerializer)
@restore_purge_schema(OrganizationSerializer)
class OrganizationViewSet(RestorePurgeMixin, ServiceViewSet):
    serializer_class = OrganizationSerializer
    filter_backends = [StableOrderingFilterBackend]
    filterset_class = ApiOrganizationFilter
    default_ordering = ["name"]
    queryset = Organization.objects.none()
    writable = _writable(Organization)

    def select_list(self):
        return selectors.organization_list(user=self.request.user).prefetch_related("tags")

    def select_one(self, pk):
        return selectors.organization_get(user=self.request.user, pk=pk)

    def can_change(self, obj):
        return can_edit(self.request.user, obj)

    def perform_create(self, data):
        refuse_duplicates(self.request, "organization", data)
        return _with_tags(self.request, data, lambda d: services.organization_create(user=self.request.user, data=d))

    def perform_update(self, obj, data):
        return _with_tags(
            self.request, data, lambda d: services.organization_update(organization=obj, user=self.request.user, data=d)
        )

    def perform_archive(self, obj):
        return services.organization_archive(organization=obj, user=self.request.user)

    def restore_record(self, obj):
        return services.organization_restore(organization=obj, user=self.request.user)

    def purge_record(self, obj):
        return services.organization_purge(organization=obj, user=self.request.user)


@_create_schema(ContactSerializer)
@service_viewset_schema(ContactSerializer)
@restore_purge_schema(ContactSerializer)
class ContactViewSet(RestorePurgeMixin, ServiceViewSet):
    serializer_class = ContactSerializer
    filter_backends = [StableOrderingFilterBackend]
    filterset_class = ApiContactFilter
    default_ordering = ["last_name", "first_name"]
    queryset = Contact.objects.none()
    writable = _writable(Contact)

    def select_list(self):
        return selectors.contact_list(user=self.request.user).prefetch_related("tags")

    def select_one(self, pk):
        return selectors.contact_get(user=self.request.user, pk=pk)

    def can_change(self, obj):
        return can_edit(self.request.user, obj)

    def perform_create(self, data):
        refuse_duplicates(self.request, "contact", data)
        return _with_tags(self.request, data, lambda d: services.contact_create(user=self.request.user, data=d))

    def perform_update(self, obj, data):
        return _with_tags(
            self.request, data, lambda d: services.contact_update(contact=obj, user=self.request.user, data=d)
        )

    def perform_archive(self, obj):
        return services.contact_archive(contact=obj, user=self.request.user)

    def restore_record(self, obj):
        return services.contact_restore(contact=obj, user=self.request.user)

    def purge_record(self, obj):
        return services.contact_purge(contact=obj, user=self.request.user)
