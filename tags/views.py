"""Adding and removing a tag on a record's page (plain forms: they work without JavaScript)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from contacts.models import Contact, Organization
from core.exceptions import ValidationError
from opportunities.models import Opportunity

from . import services
from .models import Colour, Tag

MODELS = {"opportunities": Opportunity, "organizations": Organization, "contacts": Contact}


def _record(user, kind, pk):
    """The record to tag: one the user may change (seen but not changeable is a 404, as every page)."""
    model = MODELS.get(kind)
    if model is None:
        raise Http404
    return get_object_or_404(model.objects.editable_by(user), pk=pk)


@login_required
@require_POST
def record_add(request, kind, pk):
    record = _record(request.user, kind, pk)
    name = (request.POST.get("name") or "").strip()
    colour = request.POST.get("colour") or Colour.GREY
    if colour not in Colour.values:
        colour = Colour.GREY
    tag = Tag.objects.filter(name__iexact=name).first() if name else None
    try:
        if tag is None:
            tag = services.tag_create(user=request.user, name=name, colour=colour)
        result = services.tags_add([record], tag, request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(record)
    if result.refused:
        messages.error(request, _("You may see this record but not change it."))
    return redirect(record)


@login_required
@require_POST
def record_remove(request, kind, pk, tag_id):
    record = _record(request.user, kind, pk)
    tag = get_object_or_404(Tag, pk=tag_id)
    if services.tags_remove([record], tag, request.user).refused:
        messages.error(request, _("You may see this record but not change it."))
    return redirect(record)
