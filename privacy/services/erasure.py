"""The right to erasure: a contact's personal data replaced by a neutral placeholder everywhere.

1. the contact's own fields are blanked (the row stays: deals and amounts keep their customer, so
   the reports' totals do not change);
2. every registered related kind may erase more (``RelatedKind.erase``: documents attached to the
   person get a placeholder file), and its ``personal_text_fields`` lose the first/last name;
3. **every text and JSON column of every table** is scrubbed of the person's full name, e-mail and
   phone numbers (audit trail old values, deal history, outbox and webhook payloads, idempotency
   records, import reports, notes and e-mails other features add — registered or not);
4. every uploaded file that holds them (import files, attachments…) is rewritten without them.

The log (ErasureLog) keeps who, when and how many values per table: never the erased data.
"""

import io
import re
import zipfile
from functools import reduce
from operator import or_

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from accounts.permissions import can_purge
from core.exceptions import DomainError
from core.outbox import event_emit
from dedupe.detection import phone_key

from ..models import ErasureLog, LegalHold
from ..registry import related_kinds

PLACEHOLDER = "[erased]"
TEXT_TYPES = {"CharField", "TextField", "EmailField", "URLField", "SlugField", "GenericIPAddressField"}
# Tables not scrubbed: the erasure log itself (holds no data), the users of the CRM (their login is
# not a contact's data), Django's internals.
SKIP_MODELS = {"privacy.ErasureLog", "accounts.User", "contenttypes.ContentType", "auth.Permission", "sessions.Session"}


# A JSON copy of the contact (an API response kept for replays, an event) names them field by field.
PERSON_KEYS = {"first_name", "last_name", "full_name", "name"}
OWN_NAMES_KEY = "\x00own-names"  # in ``copies``: the person's first and last name, lower case


class ErasureRefused(DomainError):
    pass


def _phone_spellings(raw: str) -> set[str]:
    import phonenumbers

    out = {raw.strip()} if raw and raw.strip() else set()
    e164 = phone_key(raw)
    if e164:
        number = phonenumbers.parse(e164)
        out |= {
            e164,
            phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL),
            phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
        }
        national = str(number.national_number)
        if number.italian_leading_zero:
            national = "0" + national
        out.add(national)
    return out


def erasure_terms(contact) -> list[str]:
    """What identifies the person in free text: full name both ways, e-mail, phones."""
    terms = set()
    first, last = contact.first_name.strip(), contact.last_name.strip()
    if first and last:
        terms |= {f"{first} {last}", f"{last} {first}"}
    elif first or last:
        terms.add(first or last)
    if contact.email:
        terms.add(contact.email.strip())
    for raw in (contact.phone, contact.mobile):
        terms |= _phone_spellings(raw)
    return sorted((t for t in terms if len(t) >= 3), key=len, reverse=True)


def _pattern(terms: list[str], words: list[str] = ()) -> re.Pattern:
    """Any of ``terms`` anywhere, or any of ``words`` as a whole word (case does not matter)."""
    parts = [re.escape(t) for t in terms] + [rf"\b{re.escape(w)}\b" for w in words]
    return re.compile("|".join(parts), re.IGNORECASE)


def _scrub(value, pattern: re.Pattern, copies: dict[str, str] | None = None):
    """``value`` with every match of ``pattern`` replaced, and every copy of an already scrubbed
    text (``copies``: original → scrubbed, e.g. a deal named after the person) replaced too."""
    if isinstance(value, str):
        for original in sorted((c for c in copies or {} if c != OWN_NAMES_KEY), key=len, reverse=True):
            value = value.replace(original, copies[original])
        return pattern.sub(PLACEHOLDER, value)
    if isinstance(value, list):
        return [_scrub(v, pattern, copies) for v in value]
    if isinstance(value, dict):
        own = (copies or {}).get(OWN_NAMES_KEY, "").split("\n")
        return {
            _scrub(k, pattern, copies): PLACEHOLDER
            if k in PERSON_KEYS and isinstance(v, str) and v.strip() and v.strip().lower() in own
            else _scrub(v, pattern, copies)
            for k, v in value.items()
        }
    return value


def _scan_fields(model):
    for field in model._meta.concrete_fields:
        kind = field.get_internal_type()
        if kind in TEXT_TYPES or kind == "JSONField":
            yield field, kind == "JSONField"


def _scrub_tables(terms: list[str], copies: dict[str, str]) -> dict[str, int]:
    pattern = _pattern(terms)
    terms = [*terms, *(c for c in copies if c != OWN_NAMES_KEY)]
    replaced: dict[str, int] = {}
    for model in apps.get_models():
        if model._meta.label in SKIP_MODELS or model._meta.proxy or not model._meta.managed:
            continue
        for field, is_json in _scan_fields(model):
            qs = model._base_manager.all()
            if is_json:
                qs = qs.annotate(_as_text=Cast(field.name, models.TextField()))
                lookup = "_as_text__icontains"
            else:
                lookup = f"{field.name}__icontains"
            matches = qs.filter(reduce(or_, [Q(**{lookup: t}) for t in terms]))
            count = 0
            for pk, value in matches.values_list("pk", field.attname):
                new = _scrub(value, pattern, copies)
                if new != value:
                    if not is_json and field.max_length:
                        new = new[: field.max_length]
                    model._base_manager.filter(pk=pk).update(**{field.attname: new})
                    count += 1
            if count:
                replaced[f"{model._meta.label}.{field.name}"] = count
    return replaced


def _scrub_xlsx(data: bytes, pattern: re.Pattern) -> bytes | None:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data))
    changed = False
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and pattern.search(cell.value):
                    cell.value = pattern.sub(PLACEHOLDER, cell.value)
                    changed = True
    if not changed:
        return None
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _scrub_bytes(name: str, data: bytes, pattern: re.Pattern) -> bytes | None:
    """The file's new content without the terms, or None when it holds none of them."""
    if zipfile.is_zipfile(io.BytesIO(data)) and name.lower().endswith((".xlsx", ".xlsm")):
        return _scrub_xlsx(data, pattern)
    for encoding in ("utf-8", "utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return pattern.sub(PLACEHOLDER, text).encode(encoding) if pattern.search(text) else None
    # A binary file we cannot edit that holds a term in clear: replaced by the placeholder.
    return PLACEHOLDER.encode() if pattern.search(data.decode("latin-1")) else None


def _scrub_files(terms: list[str], names: list[str]) -> int:
    """Rewrite every stored file that holds a term, or the first or last name as a word (an import
    file has them in separate columns)."""
    pattern = _pattern(terms, names)
    files = 0
    for model in apps.get_models():
        file_fields = [f for f in model._meta.concrete_fields if f.get_internal_type() == "FileField"]
        for field in file_fields:
            for pk, name in model._base_manager.exclude(**{field.attname: ""}).values_list("pk", field.attname):
                storage = field.storage
                if not name or not storage.exists(name):
                    continue
                with storage.open(name, "rb") as handle:
                    data = handle.read()
                new = _scrub_bytes(name, data, pattern)
                new_name = pattern.sub("erased", name)  # a file named after the person
                if new is not None or new_name != name:
                    storage.delete(name)
                    saved = storage.save(new_name, ContentFile(data if new is None else new))
                    if saved != name:
                        model._base_manager.filter(pk=pk).update(**{field.attname: saved})
                    files += 1
    return files


@transaction.atomic
def contact_erase(*, user, contact) -> ErasureLog:
    """Erase ``contact``'s personal data everywhere (see the module's docstring). Administrators
    only; refused while a legal hold is set."""
    if not can_purge(user, contact):
        raise PermissionDenied(_("Only an administrator can erase a person's data."))
    from contacts.models import Contact

    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if LegalHold.objects.filter(contact=contact).exists():
        raise ErasureRefused(_("This person is under legal hold: their data cannot be erased until it is lifted."))
    terms = erasure_terms(contact)
    names = [n for n in (contact.first_name.strip(), contact.last_name.strip()) if len(n) >= 3]
    replaced: dict[str, int] = {}
    copies: dict[str, str] = {}  # texts of related rows that named the person → their scrubbed form
    copies[OWN_NAMES_KEY] = "\n".join(n.lower() for n in names)
    for kind in related_kinds("contact"):
        rows = kind.rows_for("contact", contact)
        if kind.personal_text_fields and names:
            pattern = _pattern(terms, names)
            for obj in rows.only("pk", *kind.personal_text_fields):
                changes = {f: _scrub(getattr(obj, f), pattern) for f in kind.personal_text_fields}
                changes = {f: v for f, v in changes.items() if v != getattr(obj, f)}
                copies.update({getattr(obj, f): v for f, v in changes.items() if len(getattr(obj, f)) >= 3})
                if changes:
                    type(obj)._base_manager.filter(pk=obj.pk).update(**changes)
                    key = f"{kind.model}.personal_text"
                    replaced[key] = replaced.get(key, 0) + 1
        if kind.erase is not None:
            kind.erase(rows, terms)
    Contact.objects.filter(pk=contact.pk).update(
        first_name=PLACEHOLDER, last_name="", email="", phone="", mobile="", job_title="", notes="", external_id=""
    )
    files = 0
    if terms:
        for key, count in _scrub_tables(terms, copies).items():
            replaced[key] = replaced.get(key, 0) + count
        files = _scrub_files(terms, names)
    log = ErasureLog.objects.create(contact_id_erased=contact.pk, erased_by=user, replaced=replaced, files=files)
    event_emit("contact.erased", {"contact": {"id": contact.pk}, "changed_by": user.pk})
    return log
