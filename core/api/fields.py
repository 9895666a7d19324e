from rest_framework import serializers


class VisibleRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key the caller may only point at records they can see (else: "does not exist")."""

    def __init__(self, model=None, **kwargs):
        self.model = model
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        manager = self.model.objects
        if hasattr(manager, "visible_to"):
            return manager.visible_to(request.user) if request else manager.none()
        return manager.all()
