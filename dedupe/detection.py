"""Duplicate detection for organizations and contacts: one module every entry path calls
(forms, quick add, API, import) and the duplicates page builds on.

Rules, strongest first:

* organizations: the same VAT number or fiscal code (python-stdnum compact form, ``IT`` prefix or
  not; a company's 11-digit fiscal code is its partita IVA), then the same normalised name (case,
  accents, punctuation and legal forms such as S.r.l./Srl/S.p.A./SpA ignored);
* contacts: the same e-mail (case-insensitive), the same phone in E.164 (``phonenumbers``, default
  region IT; phone and mobile both count), then the same name within the same organization.

Candidates are looked for only among records the caller may see (``visible_to``), active ones, with
a bounded number of queries (one per rule) and at most ``LIMIT`` per rule.
"""

import re
import unicodedata
from dataclasses import dataclass

import phonenumbers
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Replace
from django.db.models.lookups import Contains
from django.utils.translation import gettext_lazy as _
from stdnum.it import codicefiscale, iva

from contacts.models import Contact, Organization
from search.text import SearchNorm

LIMIT = 10
DEFAULT_REGION = "IT"

# Legal forms, written without dots (the dots are removed before splitting into words).
LEGAL_FORMS = frozenset(
    [
        "srl",
        "srls",
        "spa",
        "sapa",
        "sas",
        "snc",
        "sc",
        "scarl",
        "scrl",
        "scpa",
        "coop",
        "societa",
        "cooperativa",
        "semplificata",
        "ss",
        "ltd",
        "llc",
        "inc",
        "corp",
        "gmbh",
        "ag",
        "sa",
        "sarl",
        "sas",
        "bv",
        "nv",
        "plc",
        "co",
        "kg",
        "ohg",
        "limited",
    ]
)

REASONS = {
    "tax_id": _("same VAT number or fiscal code"),
    "name": _("same name"),
    "email": _("same e-mail"),
    "phone": _("same phone"),
    "name_in_organization": _("same name in the same organization"),
}
SCORES = {"tax_id": 100, "email": 95, "phone": 80, "name_in_organization": 70, "name": 60}


@dataclass(frozen=True)
class Candidate:
    """A record that is possibly the same as the one being entered, with why and how sure."""

    record: object
    reason: str

    @property
    def score(self) -> int:
        return SCORES[self.reason]

    @property
    def reason_label(self) -> str:
        return str(REASONS[self.reason])

    def as_json(self) -> dict:
        kind = "organization" if isinstance(self.record, Organization) else "contact"
        return {
            "kind": kind,
            "id": self.record.pk,
            "name": str(self.record),
            "reason": self.reason,
            "reason_label": self.reason_label,
            "score": self.score,
            "url": self.record.get_absolute_url(),
        }


# --- Normalisation -----------------------------------------------------------------------------


def tax_id_key(value: str | None) -> str:
    """A VAT number or fiscal code in one comparable form: compact, upper case, ``IT`` dropped from
    an Italian partita IVA."""
    if not value:
        return ""
    compact = iva.compact(value) if value.strip().upper().startswith("IT") else codicefiscale.compact(value)
    compact = compact.upper()
    if compact.startswith("IT") and compact[2:].isdigit():
        compact = compact[2:]
    return compact


def _ascii(value: str) -> str:
    return unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")


def name_key(value: str | None) -> str:
    """An organization's name without case, accents, punctuation or legal form:
    "Rossi & Figli S.r.l." and "ROSSI E FIGLI SRL" give the same key."""
    text = _ascii(value or "").lower().replace(".", "").replace("&", " e ")
    words = [w for w in re.split(r"[^a-z0-9]+", text) if w]
    kept = [w for w in words if w not in LEGAL_FORMS]
    return " ".join(kept or words)


def person_key(first_name: str | None, last_name: str | None) -> str:
    text = _ascii(f"{first_name or ''} {last_name or ''}").lower()
    return " ".join(w for w in re.split(r"[^a-z0-9]+", text) if w)


def phone_key(value: str | None, region: str = DEFAULT_REGION) -> str:
    """A phone number in E.164 (+390212345678), or "" when it is not one."""
    if not value or not value.strip():
        return ""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _digits(field: str):
    """The column without the separators people type in phone numbers, computed by the database."""
    expr = F(field)
    for sep in (" ", "-", ".", "/", "(", ")"):
        expr = Replace(expr, Value(sep), Value(""))
    return expr


def _phone_filter(e164s: set[str]) -> Q:
    """Rows whose phone or mobile ends with the national digits of one of ``e164s`` (a cheap
    prefilter, confirmed in Python with ``phone_key``)."""
    q = Q(pk__in=[])
    for e164 in e164s:
        national = str(phonenumbers.parse(e164).national_number)
        q |= Q(_phone_digits__endswith=national) | Q(_mobile_digits__endswith=national)
    return q


def _word_filter(field: str, key: str) -> Q:
    """A cheap prefilter for a normalised-name match: the record's name contains the key's longest word."""
    words = sorted(key.split(), key=len, reverse=True)
    # Compared without accents or case ("Caffè" holds "caffe"), as the global search does.
    return Q(Contains(SearchNorm(F(field)), words[0])) if words else Q(pk__in=[])


def _dedupe(found: list[Candidate], exclude_pk) -> list[Candidate]:
    seen, out = set(), []
    for cand in found:
        if cand.record.pk == exclude_pk or cand.record.pk in seen:
            continue
        seen.add(cand.record.pk)
        out.append(cand)
    return out


# --- Candidates for one record being entered ------------------------------------------------------


def organization_candidates(*, user, data: dict, exclude_pk=None) -> list[Candidate]:
    """Organizations ``user`` may see that are possibly the one described by ``data``
    (keys as the form/API use them: name, vat_number, fiscal_code), best first."""
    base = Organization.objects.visible_to(user).active()
    if exclude_pk:
        base = base.exclude(pk=exclude_pk)
    found: list[Candidate] = []
    keys = {tax_id_key(data.get("vat_number")), tax_id_key(data.get("fiscal_code"))} - {""}
    if keys:
        spellings = keys | {f"IT{k}" for k in keys if k.isdigit()}
        q = Q(vat_number__in=spellings) | Q(fiscal_code__in=spellings)
        found += [Candidate(o, "tax_id") for o in base.filter(q).order_by("pk")[:LIMIT]]
    key = name_key(data.get("name"))
    if key:
        rows = base.filter(_word_filter("name", key)).order_by("pk")[: LIMIT * 5]
        found += [Candidate(o, "name") for o in rows if name_key(o.name) == key][:LIMIT]
    return _dedupe(found, exclude_pk)


def organization_same(organizations, *, tax_id: str = "", name: str = ""):
    """The organization of ``organizations`` that is the company described (the web form's and
    any other automatic path's match, where nobody is there to choose among candidates): the same
    VAT number or fiscal code in any spelling, else the same normalised name ("Ferri S.r.l." is
    "FERRI SRL") among those without another tax id. Active ones first, then the oldest. Two
    queries at most."""
    key = tax_id_key(tax_id)
    if key:
        spellings = {key} | ({f"IT{key}"} if key.isdigit() else set())
        found = (
            organizations.filter(Q(vat_number__in=spellings) | Q(fiscal_code__in=spellings))
            .order_by("archived_at", "pk")
            .first()
        )
        if found is not None:
            return found
    wanted = name_key(name)
    if not wanted:
        return None
    # Any word of the key may carry an accent in the stored name ("Caffè"): each one is a way in.
    words = Q(name__iexact=name.strip())
    for word in {w for w in wanted.split() if len(w) >= 3} or set(wanted.split()):
        words |= Q(name__icontains=word)
    same_name = organizations.filter(words)
    if key:  # a company with another tax id is another company
        same_name = same_name.filter(vat_number="", fiscal_code="")
    rows = same_name.order_by("archived_at", "pk")[: LIMIT * 20]
    return next((o for o in rows if name_key(o.name) == wanted), None)


def contact_candidates(*, user, data: dict, exclude_pk=None) -> list[Candidate]:
    """Contacts ``user`` may see that are possibly the person described by ``data``
    (first_name, last_name, email, phone, mobile, organization), best first."""
    base = Contact.objects.visible_to(user).active().select_related("organization")
    if exclude_pk:
        base = base.exclude(pk=exclude_pk)
    found: list[Candidate] = []
    email = (data.get("email") or "").strip()
    if email:
        found += [Candidate(c, "email") for c in base.filter(email__iexact=email).order_by("pk")[:LIMIT]]
    wanted = {phone_key(data.get(field)) for field in ("phone", "mobile")} - {""}
    if wanted:
        rows = (
            base.annotate(_phone_digits=_digits("phone"), _mobile_digits=_digits("mobile"))
            .filter(_phone_filter(wanted))
            .order_by("pk")[: LIMIT * 5]
        )
        found += [Candidate(c, "phone") for c in rows if {phone_key(c.phone), phone_key(c.mobile)} & wanted][:LIMIT]
    org = data.get("organization")
    org_id = getattr(org, "pk", org)
    key = person_key(data.get("first_name"), data.get("last_name"))
    if key and org_id:
        last = (data.get("last_name") or data.get("first_name") or "").strip()
        rows = base.filter(organization_id=org_id, last_name__icontains=last[:30]).order_by("pk")[: LIMIT * 5]
        if not data.get("last_name"):
            rows = base.filter(organization_id=org_id, first_name__icontains=last[:30]).order_by("pk")[: LIMIT * 5]
        found += [Candidate(c, "name_in_organization") for c in rows if person_key(c.first_name, c.last_name) == key][
            :LIMIT
        ]
    return _dedupe(found, exclude_pk)


def contact_same_in_organization(organization, *, first_name: str = "", last_name: str = "", phone: str = ""):
    """The active contact of ``organization`` who is the person described: the same phone (E.164)
    or the same name (case, accents and punctuation ignored); None when there is none.

    For a path with no one to confirm the match (the web form, when the e-mail is new): only within
    the company, so two people sharing a switchboard number elsewhere are never joined."""
    wanted = phone_key(phone)
    key = person_key(first_name, last_name)
    if not (wanted or key) or organization is None or organization.pk is None:
        return None
    contacts = list(
        Contact.objects.filter(organization=organization, archived_at__isnull=True)
        .order_by("pk")
        .only("pk", "first_name", "last_name", "phone", "mobile", "organization_id")[:500]
    )
    if wanted:
        for contact in contacts:
            if wanted in {phone_key(contact.phone), phone_key(contact.mobile)}:
                return contact
    if key:
        for contact in contacts:
            if person_key(contact.first_name, contact.last_name) == key:
                return contact
    return None


def organizations_named(name: str, queryset=None) -> list[Organization]:
    """Organizations of ``queryset`` (every organization by default) whose normalised name is
    ``name``'s, in one query: for the entry paths with nobody to ask (a web form), which reuse the
    company instead of offering candidates. The same name in another case first, then active ones."""
    key = name_key(name)
    if not key:
        return []
    exact = Q(name__iexact=name.strip())
    rows = (
        (Organization.objects.all() if queryset is None else queryset)
        .filter(exact | _word_filter("name", key))
        .order_by(Case(When(exact, then=Value(0)), default=Value(1)), "archived_at", "pk")
    )
    return [o for o in rows[: LIMIT * 5] if name_key(o.name) == key]


def candidates_for(kind: str, *, user, data: dict, exclude_pk=None) -> list[Candidate]:
    finder = organization_candidates if kind == "organization" else contact_candidates
    return finder(user=user, data=data, exclude_pk=exclude_pk)
