"""`/api/v1/notes/`: the notes feed of deals, contacts and organizations."""

from rest_framework import serializers

from accounts.permissions import can_edit
from contacts.models import Contact, Organization
from core.api.base import ServiceViewSet, service_viewset_schema
from core.api.fields import VisibleRelatedField
from core.api.filters import StableOrderingFilterBackend
from core.exceptions import ValidationError
from opportunities.models import Opportunity

from .. import selectors, services
from ..filters import NoteFilter
from ..formatting import note_html
from ..models import Note


class NoteSerializer(serializers.ModelSerializer):
    opportunity = VisibleRelatedField(model=Opportunity, required=False, allow_null=True)
    contact = VisibleRelatedField(model=Contact, required=False, allow_null=True)
    organization = VisibleRelatedField(model=Organization, required=False, allow_null=True)
    body_html = serializers.SerializerMethodField(help_text="The text as shown: escaped, formatted, sanitised.")
    mentions = serializers.SerializerMethodField(help_text="Ids of the users the note mentions.")

    class Meta:
        model = Note
        fields = [
            "id",
            "body",
            "body_html",
            "pinned",
            "opportunity",
            "contact",
            "organization",
            "author",
            "mentions",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["author", "created_at", "updated_at"]
        validators = []

    def get_body_html(self, note) -> str:
        return note_html(note.body, usernames={u.username for u in note.mentions.all()})

    def get_mentions(self, note) -> list[int]:
        return sorted(u.pk for u in note.mentions.all())


@service_viewset_schema(NoteSerializer)
class NoteViewSet(ServiceViewSet):
    serializer_class = NoteSerializer
    filter_backends = [StableOrderingFilterBackend]
    filterset_class = NoteFilter
    default_ordering = ["-created_at"]
    queryset = Note.objects.none()
    writable = ("body", "pinned", "opportunity", "contact", "organization")

    def select_list(self):
        return selectors.note_list(user=self.request.user)

    def select_one(self, pk):
        return selectors.note_get(user=self.request.user, pk=pk)

    def can_change(self, obj):
        return obj.author_id == self.request.user.pk or can_edit(self.request.user, obj.record)

    def perform_create(self, data):
        records = [data.get(name) for name in ("opportunity", "contact", "organization") if data.get(name)]
        if len(records) != 1:
            raise ValidationError({"opportunity": "Give exactly one of opportunity, contact or organization."})
        return services.note_create(
            user=self.request.user, body=data.get("body", ""), record=records[0], pinned=data.get("pinned", False)
        )

    def perform_update(self, obj, data):
        return services.note_update(note=obj, user=self.request.user, body=data.get("body"), pinned=data.get("pinned"))

    def perform_archive(self, obj):
        return services.note_delete(note=obj, user=self.request.user)
