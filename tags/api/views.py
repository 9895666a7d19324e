"""``/api/v1/tags/``: the tags, a new one, and putting one on (or off) many records at once."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from contacts.models import Contact, Organization
from core.api.base import ERRORS, WRITE_ERRORS
from opportunities.models import Opportunity

from .. import selectors, services
from ..models import Tag

MODELS = {"opportunities": Opportunity, "organizations": Organization, "contacts": Contact}


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "name", "colour", "created_at"]
        read_only_fields = ["created_at"]
        validators = []


class TagRecordsSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=sorted(MODELS), help_text="Which kind of record the ids are.")
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), min_length=1, max_length=1000, help_text="Up to 1000 record ids."
    )


class TagResultSerializer(serializers.Serializer):
    changed = serializers.IntegerField(help_text="Records that gained (or lost) the tag.")
    unchanged = serializers.IntegerField(help_text="Records that already had (or did not have) it.")
    refused = serializers.ListField(
        child=serializers.IntegerField(), help_text="Ids you may not change, or that do not exist for you."
    )


class TagViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = TagSerializer
    queryset = Tag.objects.none()

    def get_queryset(self):
        return selectors.tag_list()

    @extend_schema(request=TagSerializer, responses={201: TagSerializer, **WRITE_ERRORS})
    def create(self, request):
        serializer = TagSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tag = services.tag_create(user=request.user, **serializer.validated_data)
        return Response(TagSerializer(tag).data, status=status.HTTP_201_CREATED)

    def _change(self, request, change):
        tag = self.get_object()
        body = TagRecordsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        model = MODELS[body.validated_data["kind"]]
        ids = set(body.validated_data["ids"])
        visible = list(model.objects.visible_to(request.user).filter(pk__in=ids))
        result = change(visible, tag, request.user)
        refused = sorted(set(result.refused) | (ids - {r.pk for r in visible}))
        return Response({"changed": result.changed, "unchanged": result.unchanged, "refused": refused})

    @extend_schema(request=TagRecordsSerializer, responses={200: TagResultSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def add(self, request, pk=None):
        """Put the tag on the records you may change; the others come back in ``refused``."""
        return self._change(request, services.tags_add)

    @extend_schema(request=TagRecordsSerializer, responses={200: TagResultSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def remove(self, request, pk=None):
        """Take the tag off the records you may change; the others come back in ``refused``."""
        return self._change(request, services.tags_remove)
