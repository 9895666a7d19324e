"""The notes feed's HTML side: write, edit, pin and delete a note, and the @mention autocomplete.
Each answers with a redirect to the record's page (plain forms work without JavaScript)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from accounts.permissions import ChangeNotAllowed
from contacts.models import Contact, Organization
from core.exceptions import ValidationError
from opportunities.models import Opportunity

from . import selectors, services

MODELS = {"opportunity": Opportunity, "contact": Contact, "organization": Organization}


def _record(user, kind: str, pk: int):
    model = MODELS.get(kind)
    if model is None:
        raise Http404
    try:
        return model.objects.visible_to(user).get(pk=pk)
    except model.DoesNotExist:
        raise Http404 from None


def _note(user, pk: int):
    try:
        return selectors.note_get(user=user, pk=pk)
    except selectors.Note.DoesNotExist:
        raise Http404 from None


def _back(record):
    return redirect(record.get_absolute_url() + "#notes")


def _error(request, exc) -> None:
    if isinstance(exc, ValidationError):
        for errors in getattr(exc, "message_dict", {"": exc.messages}).values():
            for error in errors:
                messages.error(request, error)
    else:
        messages.error(request, str(exc))


@login_required
@require_POST
def note_add(request, kind: str, pk: int):
    record = _record(request.user, kind, pk)
    try:
        services.note_create(
            user=request.user, body=request.POST.get("body", ""), record=record, pinned=bool(request.POST.get("pinned"))
        )
    except (ValidationError, ChangeNotAllowed) as exc:
        _error(request, exc)
    return _back(record)


@login_required
@require_POST
def note_edit(request, pk: int):
    note = _note(request.user, pk)
    try:
        services.note_update(note=note, user=request.user, body=request.POST.get("body", ""))
    except ChangeNotAllowed:
        raise Http404 from None  # seen but not changeable: 404, as every page
    except ValidationError as exc:
        _error(request, exc)
    return _back(note.record)


@login_required
@require_POST
def note_pin(request, pk: int):
    note = _note(request.user, pk)
    try:
        services.note_update(note=note, user=request.user, pinned=request.POST.get("pinned") == "1")
    except ChangeNotAllowed:
        raise Http404 from None
    return _back(note.record)


@login_required
@require_POST
def note_delete(request, pk: int):
    note = _note(request.user, pk)
    record = note.record
    try:
        services.note_delete(note=note, user=request.user)
    except ChangeNotAllowed:
        raise Http404 from None
    return _back(record)


@login_required
def mention_lookup(request, kind: str, pk: int):
    """``?q=``: users who may see the record, for the @mention autocomplete (at most 20 checked)."""
    record = _record(request.user, kind, pk)
    text = " ".join((request.GET.get("q") or "").split())[:100]
    users = selectors.mentionable_users(record=record, text=text, limit=8)
    return JsonResponse(
        {"results": [{"username": u.username, "label": u.get_full_name() or u.username} for u in users]}
    )
