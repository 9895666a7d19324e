"""Every write to documents. Files go through Django's storage API (local disk by default, any
django-storages backend in production) under a random name; the uploaded name is kept for display."""

from django.conf import settings
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from core.exceptions import ValidationError

from .filetypes import ALLOWED_EXTENSIONS, content_matches, extension_of, served_content_type
from .models import Document


def document_check(*, file) -> str:
    """Refuse a file that is too large, of a type not on the allow-list, or whose bytes do not match
    its extension. Returns the extension."""
    limit = settings.CRM_UPLOAD_MAX_BYTES
    if file.size > limit:
        raise ValidationError(
            {
                "file": _("This file is %(size)s; the limit is %(limit)s.")
                % {"size": filesizeformat(file.size), "limit": filesizeformat(limit)}
            }
        )
    if file.size == 0:
        raise ValidationError({"file": _("This file is empty.")})
    extension = extension_of(file.name)
    if extension not in ALLOWED_EXTENSIONS:
        raise ValidationError(
            {
                "file": _("Files of type “%(ext)s” are not accepted. Allowed: %(allowed)s.")
                % {"ext": extension or _("(none)"), "allowed": ", ".join(ALLOWED_EXTENSIONS)}
            }
        )
    if not content_matches(extension, file):
        raise ValidationError(
            {"file": _("The content of this file is not a valid %(ext)s file.") % {"ext": extension.upper()}}
        )
    return extension


@transaction.atomic
def document_upload(
    *, user, file, opportunity=None, organization=None, contact=None, description: str = ""
) -> Document:
    """Attach ``file`` to one record the caller has already checked ``user`` may see."""
    if sum(parent is not None for parent in (opportunity, organization, contact)) != 1:
        raise ValidationError({"file": _("A document belongs to exactly one opportunity, organization or contact.")})
    extension = document_check(file=file)
    name = file.name.replace("\\", "/").rsplit("/", 1)[-1][:255]
    document = Document(
        original_name=name,
        content_type=served_content_type(extension),
        size=file.size,
        description=description.strip(),
        opportunity=opportunity,
        organization=organization,
        contact=contact,
        uploaded_by=user,
    )
    file.seek(0)
    document.file.save(name, file, save=False)
    try:
        document.full_clean(exclude=["file"])
        document.save()
    except Exception:
        document.file.delete(save=False)
        raise
    return document


@transaction.atomic
def document_delete(*, document: Document, user) -> None:
    """Remove the record and, once the transaction commits, its file."""
    storage, name = document.file.storage, document.file.name
    document.delete()
    transaction.on_commit(lambda: storage.delete(name))


def document_files_delete_on_commit(documents) -> None:
    """Once the current transaction commits, remove the files of ``documents`` (a queryset whose
    rows are being deleted with their parent record, by a cascade)."""
    files = [(doc.file.storage, doc.file.name) for doc in documents.only("file")]
    if files:
        transaction.on_commit(lambda: [storage.delete(name) for storage, name in files])
