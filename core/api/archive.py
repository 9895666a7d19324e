"""API actions shared by the records that are archived rather than deleted (deals, organizations,
contacts): ``DELETE`` archives; ``POST …/restore/`` brings one back (managers and admins);
``POST …/purge/`` with ``{"confirm": true}`` deletes an archived one for good (admins only)."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from accounts.permissions import can_edit, can_purge, can_restore

from .base import IF_MATCH, WRITE_ERRORS


class PurgeSerializer(serializers.Serializer):
    confirm = serializers.BooleanField(
        help_text=gettext_lazy("Must be true: the record and what hangs on it are deleted for good.")
    )

    def validate_confirm(self, value):
        if value is not True:
            raise serializers.ValidationError(_('Send "confirm": true to delete this record for good.'))
        return value


class RestorePurgeMixin:
    """Add to a viewset whose ``get_object()`` finds archived records too; implement
    ``restore_record(obj)`` and ``purge_record(obj)`` with the app's services."""

    def restore_record(self, obj):
        raise NotImplementedError

    def purge_record(self, obj):
        raise NotImplementedError

    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        """Bring an archived record back (managers and admins, on records they may change)."""
        obj = self.get_object()
        if not can_restore(request.user, obj):
            raise PermissionDenied(
                _("Only a manager or an administrator can restore an archived record.")
                if can_edit(request.user, obj)
                else _("You may see this record but not change it.")
            )
        self.check_if_match(obj)
        self.restore_record(obj)
        return Response(self.get_serializer(self.get_object()).data)

    @action(detail=True, methods=["post"])
    def purge(self, request, pk=None):
        """Delete an archived record for good (admins only). Refused (400, with the reason) while it
        is not archived or other records still refer to it."""
        obj = self.get_object()
        if not can_purge(request.user, obj):
            raise PermissionDenied(_("Only an administrator can delete records for good."))
        self.check_if_match(obj)
        PurgeSerializer(data=request.data).is_valid(raise_exception=True)
        self.purge_record(obj)
        self._etag_object = None
        return Response(status=status.HTTP_204_NO_CONTENT)


def restore_purge_schema(serializer):
    """The OpenAPI description of the two actions, for a viewset whose records ``serializer`` shows."""
    return extend_schema_view(
        restore=extend_schema(request=None, parameters=[IF_MATCH], responses={200: serializer, **WRITE_ERRORS}),
        purge=extend_schema(request=PurgeSerializer, parameters=[IF_MATCH], responses={204: None, **WRITE_ERRORS}),
    )
