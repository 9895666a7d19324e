from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import can_edit
from contacts.models import Contact, Organization
from opportunities.models import Opportunity

from . import services
from .filetypes import extension_of, served_content_type
from .forms import DocumentForm
from .models import Document

PARENTS = {"opportunity": Opportunity, "organization": Organization, "contact": Contact}


def _parent_or_404(user, data) -> tuple[str, object]:
    for field, model in PARENTS.items():
        if data.get(field):
            try:
                return field, model.objects.visible_to(user).get(pk=data[field])
            except (model.DoesNotExist, ValueError):
                raise Http404 from None
    raise Http404


@login_required
@require_POST
def document_upload(request):
    field, parent = _parent_or_404(request.user, request.POST)
    form = DocumentForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect(parent)
    try:
        document = services.document_upload(
            user=request.user,
            file=form.cleaned_data["file"],
            description=form.cleaned_data["description"],
            **{field: parent},
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("“%(name)s” uploaded.") % {"name": document.original_name})
    return redirect(parent)


def _document_or_404(user, pk) -> Document:
    try:
        return Document.objects.visible_to(user).get(pk=pk)
    except Document.DoesNotExist:
        raise Http404 from None


@login_required
def document_download(request, pk):
    document = _document_or_404(request.user, pk)
    try:
        handle = document.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    response = FileResponse(handle, as_attachment=True, filename=document.original_name)
    # Never trust the stored type blindly: only types from the safe list, never markup.
    response["Content-Type"] = served_content_type(extension_of(document.original_name))
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@login_required
@require_POST
def document_delete(request, pk):
    document = _document_or_404(request.user, pk)
    parent = document.parent
    if not (document.uploaded_by_id == request.user.pk or can_edit(request.user, parent)):
        raise Http404
    services.document_delete(document=document, user=request.user)
    messages.success(request, _("Document deleted."))
    return redirect(parent)
