"""What can be imported for each kind of record: target fields, header synonyms and value parsers.

A mapping is ``{target field: column header}``. :func:`auto_mapping` guesses it from the headers
by comparing them, reduced to letters and digits, with each field's name, its English and Italian
labels and a list of synonyms (e.g. "Ragione sociale" → organization name, "Partita IVA" → VAT).
"""

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .keys import header_key
from .models import ImportKind


class CellError(ValueError):
    """A value that cannot be read; the message is for people."""


def parse_text(value) -> str:
    if isinstance(value, datetime.date):
        return value.isoformat()
    return " ".join(str(value).split()) if value is not None else ""


def parse_decimal(value) -> Decimal | None:
    if value in ("", None):
        return None
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    text = re.sub(r"[\s€$£]|EUR|USD", "", str(value), flags=re.IGNORECASE)
    if "," in text and "." in text:
        # The separator that comes last is the decimal one: 1.234,56 or 1,234.56.
        thousands = "." if text.rfind(",") > text.rfind(".") else ","
        text = text.replace(thousands, "").replace(",", ".")
    elif "," in text:
        text = text.replace(",", ".") if text.count(",") == 1 else text.replace(",", "")
    elif text.count(".") > 1:
        text = text.replace(".", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise CellError(_("%(value)s is not a number.") % {"value": value}) from None
    if not number.is_finite():
        raise CellError(_("%(value)s is not a number.") % {"value": value})
    return number


def parse_int(value) -> int | None:
    number = parse_decimal(value)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise CellError(_("%(value)s is not a whole number.") % {"value": value})
    return int(number)


def parse_probability(value) -> Decimal | None:
    """A probability as written, "25", "25 %" or "0.25": the scale is decided for the whole file
    (:func:`probability_scale`), so the number is kept as it is here."""
    if isinstance(value, str):
        value = value.replace("%", "")
    number = parse_decimal(value)
    if number is not None and not 0 <= number <= 100:
        raise CellError(_("%(value)s is not a probability (0–100 %%, or 0–1).") % {"value": value})
    return number


PERCENT, FRACTION = "percent", "fraction"


def probability_scale(values) -> str:
    """``FRACTION`` when every probability of the file lies within 0–1 (HubSpot writes 0.2 for
    20 %), else ``PERCENT``. Decided per file: a single "1" among "20", "60" is 1 %."""
    numbers = []
    for value in values:
        try:
            number = parse_probability(value)
        except CellError:
            continue
        if number is not None:
            numbers.append(number)
    return FRACTION if numbers and all(n <= 1 for n in numbers) and any(n != int(n) for n in numbers) else PERCENT


DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%d/%m/%y", "%Y/%m/%d"]


def parse_date(value) -> datetime.date | None:
    if value in ("", None):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = str(value).strip()[:10] if re.match(r"^\d{4}-\d{2}-\d{2}[ T]", str(value)) else str(value).strip()
    for fmt in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise CellError(_("%(value)s is not a date (use YYYY-MM-DD or DD/MM/YYYY).") % {"value": value})


TRUE = {"1", "true", "yes", "y", "si", "sì", "x", "vero"}
FALSE = {"0", "false", "no", "n", "falso", ""}


def parse_bool(value) -> bool:
    text = str(value).strip().casefold() if value is not None else ""
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise CellError(_("%(value)s is not yes or no.") % {"value": value})


def parse_email(value) -> str:
    text = parse_text(value).lower()
    if text:
        try:
            EmailValidator()(text)
        except DjangoValidationError:
            raise CellError(_("%(value)s is not an e-mail address.") % {"value": value}) from None
    return text


def choice_parser(choices):
    """Accept a choice's value or its label, in English or Italian, ignoring case."""

    def parse(value) -> str:
        text = parse_text(value)
        if not text:
            return ""
        wanted = header_key(text)
        for code, label in choices:
            names = {header_key(code), header_key(str(label))}
            for language in ("en", "it"):
                with translation.override(language):
                    names.add(header_key(str(label)))
            if wanted in names:
                return code
        allowed = ", ".join(str(label) for _code, label in choices)
        raise CellError(_("%(value)s is not one of: %(allowed)s.") % {"value": text, "allowed": allowed})

    return parse


@dataclass
class Field:
    name: str
    label: object
    parse: object = parse_text
    synonyms: list[str] = field(default_factory=list)
    required: bool = False
    # A natural key: rows are matched to existing records by it.
    key: bool = False

    def names(self) -> set[str]:
        names = {header_key(self.name), *(header_key(s) for s in self.synonyms)}
        for language in ("en", "it"):
            with translation.override(language):
                names.add(header_key(str(self.label)))
        return names


def _fields() -> dict[str, list[Field]]:
    from opportunities.models import LeadSource, OpportunityType
    from products.models import Product

    external = Field("external_id", gettext_lazy("external id"), synonyms=["id", "codice esterno", "opportunity_id"])
    return {
        ImportKind.ORGANIZATION: [
            external,
            Field(
                "name",
                gettext_lazy("name"),
                required=True,
                key=True,
                synonyms=[
                    "organization",
                    "organisation",
                    "company",
                    "company name",
                    "account",
                    "account name",
                    "ragione sociale",
                    "denominazione",
                    "azienda",
                    "nome azienda",
                    "società",
                    "cliente",
                ],
            ),
            Field("vat_number", gettext_lazy("VAT number"), synonyms=["partita iva", "p iva", "piva", "vat", "p.iva"]),
            Field("fiscal_code", gettext_lazy("fiscal code"), synonyms=["codice fiscale", "cf", "cod fiscale"]),
            Field("website", gettext_lazy("website"), synonyms=["sito", "sito web", "web", "url"]),
            Field("email", gettext_lazy("e-mail"), parse_email, synonyms=["mail", "email address", "pec"]),
            Field("phone", gettext_lazy("phone"), synonyms=["telefono", "tel", "phone number"]),
            Field("sector", gettext_lazy("sector"), synonyms=["industry", "settore", "settore merceologico"]),
            Field("employees", gettext_lazy("employees"), parse_int, synonyms=["dipendenti", "numero dipendenti"]),
            Field("annual_revenue", gettext_lazy("annual revenue"), parse_decimal, synonyms=["revenue", "fatturato"]),
            Field(
                "founded_year",
                gettext_lazy("year founded"),
                parse_int,
                synonyms=["year established", "anno di fondazione", "anno fondazione", "founded"],
            ),
            Field("street", gettext_lazy("street address"), synonyms=["address", "indirizzo", "via"]),
            Field("postal_code", gettext_lazy("postal code"), synonyms=["zip", "zip code", "cap", "postcode"]),
            Field("city", gettext_lazy("city"), synonyms=["town", "città", "citta", "comune", "località"]),
            Field("province", gettext_lazy("province"), synonyms=["provincia", "prov", "state", "county"]),
            Field("country", gettext_lazy("country"), synonyms=["paese", "nazione", "stato", "office location"]),
            Field(
                "parent",
                gettext_lazy("parent organization"),
                synonyms=["parent", "subsidiary of", "capogruppo", "controllante", "società madre"],
            ),
            Field("description", gettext_lazy("description"), synonyms=["notes", "note", "descrizione"]),
        ],
        ImportKind.CONTACT: [
            external,
            Field("first_name", gettext_lazy("first name"), synonyms=["nome", "given name", "firstname"]),
            Field("last_name", gettext_lazy("last name"), synonyms=["cognome", "surname", "family name", "lastname"]),
            Field("email", gettext_lazy("e-mail"), parse_email, key=True, synonyms=["mail", "email address"]),
            Field("phone", gettext_lazy("phone"), synonyms=["telefono", "tel", "phone number"]),
            Field("mobile", gettext_lazy("mobile"), synonyms=["cellulare", "cell", "mobile phone"]),
            Field("job_title", gettext_lazy("job title"), synonyms=["title", "ruolo", "qualifica", "posizione"]),
            Field(
                "organization",
                gettext_lazy("organization"),
                synonyms=["company", "account", "azienda", "ragione sociale", "società", "organisation"],
            ),
            Field("notes", gettext_lazy("notes"), synonyms=["note", "description", "descrizione"]),
        ],
        ImportKind.PRODUCT: [
            Field(
                "code", gettext_lazy("code"), key=True, synonyms=["sku", "codice", "product code", "codice articolo"]
            ),
            Field(
                "name",
                gettext_lazy("name"),
                required=True,
                key=True,
                synonyms=["product", "product name", "prodotto", "articolo", "nome prodotto"],
            ),
            Field("kind", gettext_lazy("kind"), choice_parser(Product.Kind.choices), synonyms=["tipo", "type"]),
            Field("category", gettext_lazy("category"), synonyms=["categoria", "series", "serie", "famiglia"]),
            Field("description", gettext_lazy("description"), synonyms=["descrizione"]),
            Field(
                "unit_price",
                gettext_lazy("unit price"),
                parse_decimal,
                required=True,
                synonyms=["price", "prezzo", "sales price", "list price", "listino", "prezzo unitario"],
            ),
            Field("currency", gettext_lazy("currency"), synonyms=["valuta", "divisa"]),
            Field("vat_rate", gettext_lazy("VAT rate (%)"), parse_decimal, synonyms=["vat", "iva", "aliquota iva"]),
            Field("active", gettext_lazy("active"), parse_bool, synonyms=["attivo"]),
        ],
        ImportKind.OPPORTUNITY: [
            Field(
                "external_id",
                gettext_lazy("external id"),
                synonyms=["id", "codice esterno", "opportunity_id", "deal id", "record id", "id trattativa"],
            ),
            Field(
                "name",
                gettext_lazy("name"),
                required=True,
                key=True,
                synonyms=[
                    "opportunity",
                    "deal",
                    "deal name",
                    "deal title",
                    "title",
                    "titolo",
                    "opportunità",
                    "trattativa",
                    "nome trattativa",
                    "nome opportunità",
                    "opportunity name",
                ],
            ),
            Field(
                "organization",
                gettext_lazy("organization"),
                synonyms=[
                    "account",
                    "company",
                    "customer",
                    "cliente",
                    "azienda",
                    "ragione sociale",
                    "organisation",
                    "organization name",
                    "associated company",
                    "company name",
                    "account name",
                    "organizzazione",
                ],
            ),
            Field(
                "contact",
                gettext_lazy("contact"),
                synonyms=[
                    "contact email",
                    "contatto",
                    "referente",
                    "person",
                    "contact person",
                    "associated contact",
                    "contact name",
                    "persona",
                    "persona di contatto",
                ],
            ),
            Field("pipeline", gettext_lazy("pipeline"), synonyms=["deal pipeline", "pipeline di vendita"]),
            Field("stage", gettext_lazy("stage"), synonyms=["deal stage", "fase", "fase trattativa"]),
            Field(
                "status",
                gettext_lazy("status (open, won, lost)"),
                synonyms=["status", "stato", "deal status", "esito", "won lost"],
            ),
            Field(
                "amount",
                gettext_lazy("amount"),
                parse_decimal,
                synonyms=["value", "importo", "valore", "close value", "deal value", "deal amount", "amount"],
            ),
            Field("currency", gettext_lazy("currency"), synonyms=["valuta", "divisa", "currency of value"]),
            Field(
                "expected_close_date",
                gettext_lazy("expected close date"),
                parse_date,
                synonyms=[
                    "chiusura prevista",
                    "data chiusura prevista",
                    "expected close",
                    "data di chiusura prevista",
                ],
            ),
            Field(
                "closed_at",
                gettext_lazy("closed at"),
                parse_date,
                synonyms=["closing date", "chiusa il", "closed on", "deal closed on", "closed date", "close time"],
            ),
            # HubSpot's one "Close Date": the expected date while the deal is open, the actual one after.
            Field(
                "close_date",
                gettext_lazy("close date (expected if open, actual if won or lost)"),
                parse_date,
                synonyms=["close date", "data chiusura", "data di chiusura"],
            ),
            Field(
                "created_at",
                gettext_lazy("created at"),
                parse_date,
                synonyms=[
                    "created",
                    "engage date",
                    "data creazione",
                    "creata il",
                    "create date",
                    "deal created",
                    "add time",
                    "created on",
                    "data di creazione",
                ],
            ),
            Field(
                "probability",
                gettext_lazy("probability (%)"),
                parse_probability,
                synonyms=["probabilità", "probability", "deal probability", "probabilità di chiusura"],
            ),
            Field(
                "owner",
                gettext_lazy("owner"),
                synonyms=[
                    "sales agent",
                    "salesperson",
                    "rep",
                    "commerciale",
                    "responsabile",
                    "venditore",
                    "deal owner",
                    "owner name",
                    "proprietario",
                    "assegnatario",
                ],
            ),
            Field("type", gettext_lazy("type"), choice_parser(OpportunityType.choices), synonyms=["tipo", "deal type"]),
            Field(
                "lead_source",
                gettext_lazy("lead source"),
                choice_parser(LeadSource.choices),
                synonyms=["source", "fonte", "origine"],
            ),
            Field(
                "lost_reason",
                gettext_lazy("lost reason"),
                synonyms=[
                    "motivo perdita",
                    "reason lost",
                    "closed lost reason",
                    "motivo della perdita",
                    "lost reason",
                    "motivo",
                ],
            ),
            Field("next_step", gettext_lazy("next step"), synonyms=["prossimo passo"]),
            Field("description", gettext_lazy("description"), synonyms=["notes", "note", "descrizione"]),
        ],
    }


def fields_for(kind: str) -> list[Field]:
    """The fields a column of an import of ``kind`` can fill: the record's own, then its custom ones."""
    return [*_fields()[kind], *custom_fields_for(kind)]


# Words other CRMs put before or after a field's name: Pipedrive's "Deal - Title", HubSpot's "Deal
# Stage", an Italian "Nome trattativa". A header is also tried without them.
RECORD_WORDS = {
    ImportKind.ORGANIZATION: ["organization", "organisation", "company", "azienda", "organizzazione"],
    ImportKind.CONTACT: ["person", "contact", "persona", "contatto"],
    ImportKind.PRODUCT: ["product", "prodotto"],
    ImportKind.OPPORTUNITY: ["deal", "opportunity", "trattativa", "opportunita"],
}


def _meaning_keys(kind: str, header: str) -> list[str]:
    """The header's key, then the key of the header without the record's name around it."""
    keys = [header_key(header)]
    words = re.split(r"[\s\-–:_./]+", header.strip())
    words = [w for w in words if w]
    record = set(RECORD_WORDS.get(kind, []))
    stripped = list(words)
    if len(stripped) > 1 and header_key(stripped[0]) in record:
        stripped = stripped[1:]
    if len(stripped) > 1 and header_key(stripped[-1]) in record:
        stripped = stripped[:-1]
    if stripped != words:
        keys.append(header_key(" ".join(stripped)))
    return keys


def auto_mapping(kind: str, headers: list[str]) -> dict[str, str]:
    """``{field: header}`` for every field a header names, by meaning rather than spelling: the
    field's name, its English and Italian labels and synonyms, compared with the header as it is
    and without the record's name around it ("Deal - Title", "Deal name", "Nome trattativa" → name).
    A header that says it exactly wins over one that says it after stripping; each is used once."""
    mapping, used = {}, set()
    exact, loose = {}, {}
    for header in headers:
        keys = _meaning_keys(kind, header)
        exact.setdefault(keys[0], header)
        for key in keys[1:]:
            loose.setdefault(key, header)
    specs = fields_for(kind)
    for by_key in (exact, loose):
        for spec in specs:
            if spec.name in mapping:
                continue
            for name in sorted(spec.names(), key=lambda n: (n != header_key(spec.name), n)):
                header = by_key.get(name)
                if header and header not in used:
                    mapping[spec.name] = header
                    used.add(header)
                    break
    return mapping


def mapping_errors(kind: str, mapping: dict, headers: list[str], defaults: dict | None = None) -> dict[str, str]:
    """Problems with a mapping, by field: unknown columns, a required field left out."""
    errors = {}
    mapping = {**(defaults or {}), **{k: v for k, v in mapping.items() if v}}
    specs = {spec.name: spec for spec in fields_for(kind)}
    for name, header in mapping.items():
        if name not in specs:
            errors[name] = _("%(field)s is not a field of this import.") % {"field": name}
        elif header and header not in headers and name not in (defaults or {}):
            errors[name] = _("The file has no column %(column)s.") % {"column": header}
    for spec in specs.values():
        if spec.required and not mapping.get(spec.name):
            errors[spec.name] = _("Choose the column that holds the %(field)s.") % {"field": spec.label}
    if kind == ImportKind.CONTACT and not (mapping.get("first_name") or mapping.get("last_name")):
        errors["last_name"] = _("Choose the column of the first or the last name.")
    return errors


# --- custom fields: one import field per active definition of the record kind, named
# ``custom_fields.<key>`` like the services' errors, so a refused value names the file's column.

CUSTOM_PREFIX = "custom_fields."
CUSTOM_ENTITY = {
    ImportKind.ORGANIZATION: "organization",
    ImportKind.CONTACT: "contact",
    ImportKind.PRODUCT: "product",
    ImportKind.OPPORTUNITY: "deal",
}
_CURRENCY_IN_TEXT = re.compile(r"\b([A-Za-z]{3})\b")


def _custom_choice_parser(definition):
    """A choice by its key or its label in either language, ignoring case; several separated by
    commas or semicolons for a multiple choice. The service then refuses a removed one."""
    names = {}
    for choice in definition.choices or ():
        for name in (choice.get("key"), choice.get("label_it"), choice.get("label_en")):
            if name:
                names.setdefault(header_key(name), choice["key"])

    def one(text):
        key = names.get(header_key(text))
        if key is None:
            allowed = ", ".join(label for _key, label in definition.active_choices())
            raise CellError(_("%(value)s is not one of: %(allowed)s.") % {"value": text, "allowed": allowed})
        return key

    def parse(value):
        text = parse_text(value)
        if not text:
            return ""
        if definition.type == "multi_choice":
            return [one(part.strip()) for part in re.split(r"[,;|]", text) if part.strip()]
        return one(text)

    return parse


def _custom_user_parser():
    """A user by username, e-mail or full name (the active ones, read once per import)."""
    users: dict[str, int] = {}

    def parse(value):
        text = parse_text(value)
        if not text:
            return ""
        if not users:
            from accounts.models import User

            for user in User.objects.filter(is_active=True).order_by("-pk"):
                for name in (user.username, user.email, user.get_full_name()):
                    if name:
                        users[header_key(name)] = user.pk
        pk = users.get(header_key(text))
        if pk is None:
            raise CellError(_("%(value)s is not a user of the CRM.") % {"value": text})
        return pk

    return parse


def _custom_money(value):
    from core.currency import base_currency

    if value in ("", None):
        return ""
    found = _CURRENCY_IN_TEXT.search(str(value)) if isinstance(value, str) else None
    amount = parse_decimal(_CURRENCY_IN_TEXT.sub("", str(value)) if found else value)
    if amount is None:
        return ""
    return {"amount": str(amount), "currency": found.group(1).upper() if found else base_currency()}


def _blank_or(parse, convert=lambda v: v):
    def wrapped(value):
        if value in ("", None) or (isinstance(value, str) and not value.strip()):
            return ""
        parsed = parse(value)
        return "" if parsed is None else convert(parsed)

    return wrapped


def _custom_parser(definition):
    t = definition.type
    if t in ("choice", "multi_choice"):
        return _custom_choice_parser(definition)
    if t == "user":
        return _custom_user_parser()
    if t == "money":
        return _custom_money
    if t == "integer":
        return _blank_or(parse_int)
    if t == "decimal":
        return _blank_or(parse_decimal, str)
    if t == "percent":
        return _blank_or(lambda v: parse_decimal(str(v).replace("%", "")), str)
    if t == "date":
        return _blank_or(parse_date, lambda d: d.isoformat())
    if t == "boolean":
        return _blank_or(parse_bool)
    return parse_text  # text, long text, URL, e-mail, phone, date and time: the service validates them


def custom_fields_for(kind: str) -> list[Field]:
    from customfields.selectors import definitions_for

    entity = CUSTOM_ENTITY.get(kind)
    if entity is None:
        return []
    return [
        Field(
            CUSTOM_PREFIX + d.key,
            d.label,
            parse=_custom_parser(d),
            synonyms=[d.key, d.label_it, d.label_en],
        )
        for d in definitions_for(entity)
    ]
