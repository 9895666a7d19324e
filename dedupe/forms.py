"""The HTML forms' side of duplicate detection: "possibly the same as …" before saving."""

from django.utils.translation import gettext as _

from core.exceptions import ValidationError

from .detection import candidates_for

CONFIRM_FIELD = "confirm_new"


def create_unless_duplicate(request, form, kind: str, create):
    """Call ``create()`` unless the form describes a record that possibly exists already and the
    user has not confirmed they mean a new one (``confirm_new`` ticked). The candidates are put on
    ``form.duplicates`` for ``dedupe/partials/possible_duplicates.html`` to show with links."""
    if not request.POST.get(CONFIRM_FIELD):
        found = candidates_for(kind, user=request.user, data=form.cleaned_data)
        if found:
            form.duplicates = found
            raise ValidationError(
                _("This is possibly the same as a record you already have: open it, or confirm to create anyway.")
            )
    return create()


def tax_id_taken_links(request, form):
    """A VAT number or fiscal code another organization already has is refused by the form itself
    (it is unique), before the duplicate check runs: show that organization with its link as well,
    as "possibly the same as …" does. Returns ``form``."""
    if request.method == "POST" and not form.is_valid() and {"vat_number", "fiscal_code"} & set(form.errors):
        data = {name: form.data.get(name, "") for name in ("vat_number", "fiscal_code")}
        found = candidates_for("organization", user=request.user, data=data)
        form.duplicates = [c for c in found if c.reason == "tax_id"]
    return form
