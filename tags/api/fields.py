"""The ``tags`` field of the deal, organization and contact API: read as the record's tag names,
written as the names of existing tags (validated by ``tags.services.tags_resolve``)."""

from rest_framework import serializers

TAGS_HELP = (
    "The record's tags, by name. Writing replaces them: names of existing tags (any case; create a tag with "
    "POST /api/v1/tags/), at most 50; an unknown name is a 400 naming tags. Left out: unchanged."
)


class TagsField(serializers.ListField):
    def __init__(self, **kwargs):
        kwargs.setdefault("child", serializers.CharField(max_length=50))
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 50)
        kwargs.setdefault("help_text", TAGS_HELP)
        super().__init__(**kwargs)

    def to_representation(self, data):
        return [tag.name for tag in data.all()] if hasattr(data, "all") else list(data)
