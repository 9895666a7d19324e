"""One importer per kind of record: find the record a row describes, then create or update it
through that record's services (organizations, contacts, opportunities), so an import applies the
same rules — validation, stage policy, history, outbox events — as the forms.

An importer raises :class:`RowError` (or a service's ``ValidationError``) for a row it refuses;
``imports.services.import_rows`` turns either into the row's rejection reason.

**Matching sees what the importer sees.** Every lookup of an existing record — organizations by
name or external id, contacts by e-mail, external id or name, deals by external id or name —
starts from ``visible_to(importer)``: a record the importer may not see is "not found", exactly as
if it did not exist (an organization is then created, theirs; a deal's contact is refused as
unknown), so neither the preview nor the run can tell the two apart or link a deal to it.
Updating a matched record needs ``editable_by(importer)``. Owners are users the importer may
assign (``accounts.permissions.assignable_owners``); products are a shared catalogue.
"""

import datetime
import re
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import owner_check
from contacts.models import Contact, Organization
from contacts.services import contact_create, contact_update, organization_create, organization_update
from core.currency import base_currency
from core.exceptions import ValidationError
from dedupe.detection import contact_candidates, organization_candidates
from opportunities.models import Opportunity
from opportunities.services import opportunity_create, opportunity_update
from pipeline.models import LostReason
from products.models import Product
from products.services import product_create, product_update

from .fields import CUSTOM_PREFIX, FRACTION, PERCENT, fields_for
from .keys import compact_key, name_key
from .models import ImportKind
from .values import LOST, OPEN, SKIP, STATUS_LABELS, WON, ValueCatalogue, value_resolve

LOST_REASON_DEFAULT = "Not recorded"


class RowError(Exception):
    """A row refused, with ``{field: message}``."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors


def _present(values: dict) -> dict:
    """Only the cells that hold something: an empty cell never erases what a record already has.
    Custom field cells (``custom_fields.<key>``) are gathered into ``custom_fields`` for the service."""
    data = {k: v for k, v in values.items() if v not in ("", None, [])}
    custom = {k.removeprefix(CUSTOM_PREFIX): data.pop(k) for k in list(data) if k.startswith(CUSTOM_PREFIX)}
    if custom:
        data["custom_fields"] = custom
    return data


def _noon(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


class Importer:
    kind: str
    model = None

    def __init__(self, *, user):
        self.user = user
        self.fields = fields_for(self.kind)
        self.notes: list[str] = []
        self.defaults: dict = {}

    def _editable(self, obj) -> None:
        if not type(obj).objects.editable_by(self.user).filter(pk=obj.pk).exists():
            raise RowError({"name": _("%(record)s already exists and you may not change it.") % {"record": obj}})

    def save(self, values: dict) -> tuple[str, object]:
        """Create or update the record of one row; returns ("created" | "updated" | "unchanged", record)."""
        raise NotImplementedError


class _OrganizationLookup:
    """The organizations ``user`` sees, by name ignoring case and spacing, kept current as rows
    create them."""

    def __init__(self, user):
        self.by_name = {}
        for pk, name in Organization.objects.visible_to(user).order_by("pk").values_list("pk", "name"):
            self.by_name.setdefault(name_key(name), pk)

    def get(self, name: str) -> Organization | None:
        pk = self.by_name.get(name_key(name))
        return Organization.objects.filter(pk=pk).first() if pk else None

    def add(self, org: Organization) -> None:
        self.by_name[name_key(org.name)] = org.pk

    def get_or_create(self, name: str, user, notes: list[str]) -> Organization:
        org = self.get(name)
        if org is None:
            org = organization_create(user=user, data={"name": name})
            self.add(org)
            notes.append(_("organization %(name)s created") % {"name": org.name})
        return org


def _flag_duplicates(notes: list[str], candidates) -> None:
    """A created row that is possibly a record already there is created, and said so in the report."""
    if candidates:
        names = ", ".join(f"{c.record} (#{c.record.pk}, {c.reason_label})" for c in candidates[:3])
        notes.append(_("possible duplicate of %(names)s") % {"names": names})


class OrganizationImporter(Importer):
    kind = ImportKind.ORGANIZATION

    def __init__(self, *, user):
        super().__init__(user=user)
        self.orgs = _OrganizationLookup(user)

    def save(self, values):
        data = _present(values)
        if "parent" in data:
            # A parent listed further down the file is created now and completed by its own row.
            data["parent"] = self.orgs.get_or_create(data["parent"], self.user, self.notes)
        org = None
        if data.get("external_id"):
            org = Organization.objects.visible_to(self.user).filter(external_id=data["external_id"]).first()
        org = org or self.orgs.get(data["name"])
        if org is None:
            _flag_duplicates(self.notes, organization_candidates(user=self.user, data=data))
            org = organization_create(user=self.user, data=data)
            self.orgs.add(org)
            return "created", org
        self._editable(org)
        if name_key(org.name) == name_key(data["name"]):
            data.pop("name")  # "ACME  spa" is "Acme SPA": keep the spelling already there
        org = organization_update(organization=org, user=self.user, data=data)
        self.orgs.add(org)
        return ("updated" if org.changes else "unchanged"), org


class ContactImporter(Importer):
    kind = ImportKind.CONTACT

    def __init__(self, *, user):
        super().__init__(user=user)
        self.orgs = _OrganizationLookup(user)

    def _find(self, data) -> Contact | None:
        contacts = Contact.objects.visible_to(self.user)
        if data.get("external_id"):
            found = contacts.filter(external_id=data["external_id"]).first()
            if found:
                return found
        if data.get("email"):
            return contacts.filter(email__iexact=data["email"]).order_by("pk").first()
        candidates = contacts.filter(
            first_name__iexact=data.get("first_name", ""), last_name__iexact=data.get("last_name", "")
        )
        org = data.get("organization")
        candidates = candidates.filter(organization=org) if org else candidates.filter(organization__isnull=True)
        return candidates.order_by("pk").first()

    def save(self, values):
        data = _present(values)
        for name in ("first_name", "last_name"):
            if name in data:
                data[name] = " ".join(data[name].split())
        if not (data.get("first_name") or data.get("last_name")):
            raise RowError({"last_name": _("A contact needs a first or a last name.")})
        if "organization" in data:
            data["organization"] = self.orgs.get_or_create(data["organization"], self.user, self.notes)
        contact = self._find(data)
        if contact is None:
            _flag_duplicates(self.notes, contact_candidates(user=self.user, data=data))
            return "created", contact_create(user=self.user, data=data)
        self._editable(contact)
        contact = contact_update(contact=contact, user=self.user, data=data)
        return ("updated" if contact.changes else "unchanged"), contact


class ProductImporter(Importer):
    kind = ImportKind.PRODUCT

    def __init__(self, *, user):
        super().__init__(user=user)
        self.by_name = {compact_key(name): pk for pk, name in Product.objects.values_list("pk", "name")}

    def save(self, values):
        data = _present(values)
        data["name"] = " ".join(data["name"].split())
        if "currency" in data:
            data["currency"] = data["currency"].upper()
        product = None
        if data.get("code"):
            product = Product.objects.filter(code__iexact=data["code"]).first()
        if product is None and compact_key(data["name"]) in self.by_name:
            product = Product.objects.filter(pk=self.by_name[compact_key(data["name"])]).first()
        if product is None:
            product = product_create(user=self.user, **{"currency": base_currency(), **data})
            action = "created"
        else:
            if compact_key(product.name) == compact_key(data["name"]):
                data.pop("name")  # "GTXPro" is "GTX Pro": keep the spelling already there
            custom = data.pop("custom_fields", None) or {}
            changed = {k: v for k, v in data.items() if getattr(product, k) != v}
            stored = product.custom_fields or {}
            if any(stored.get(key) != value for key, value in custom.items()):
                changed["custom_fields"] = custom  # the service validates and converts them
            action = "updated" if changed else "unchanged"
            if changed:
                product = product_update(product=product, user=self.user, data=changed)
        self.by_name[compact_key(product.name)] = product.pk
        return action, product


CREATE_ORGANIZATIONS, CREATE_BOTH, CREATE_NOTHING = "organizations", "both", "none"
CREATE_CHOICES = (CREATE_ORGANIZATIONS, CREATE_BOTH, CREATE_NOTHING)
_EMAIL_IN_TEXT = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")


def _contact_parts(text: str) -> tuple[str, str]:
    """("Mario Rossi", "mario@rossi.it") from "Mario Rossi (mario@rossi.it)", "Mario Rossi
    <mario@rossi.it>", "mario@rossi.it" or "Mario Rossi"."""
    match = _EMAIL_IN_TEXT.search(text)
    email = match.group(0).lower() if match else ""
    name = _EMAIL_IN_TEXT.sub("", text) if match else text
    name = " ".join(re.sub(r"[()<>\[\],;]", " ", name).split())
    return name, email


class OpportunityImporter(Importer):
    """Deals, with what other CRMs' exports hold: a status (open / won / lost) beside the stage, a
    lost reason, one close date that means expected or actual, probabilities as 0–1 or 0–100.

    Every check of a row runs before anything is written, and all of them report (``resolve``), so
    a refused row lists every reason at once. The stage, status and lost reason reach the deal
    through ``opportunity_create`` / ``opportunity_update`` — the one stage service — or the row
    says why not.
    """

    kind = ImportKind.OPPORTUNITY

    def __init__(self, *, user):
        super().__init__(user=user)
        self.orgs = _OrganizationLookup(user)
        self.catalogue = ValueCatalogue()
        self.value_mapping: dict = {}
        self.options: dict = {}
        self.probability_scale = PERCENT
        self.created_contacts: dict[str, int] = {}
        # The user directory is open to every signed-in user; whether the importer may give a deal
        # to the one a row names is the owner rule's business (``_owner``).
        self.users = {}
        for user_obj in User.objects.filter(is_active=True):
            for label in (user_obj.username, user_obj.email, user_obj.get_full_name()):
                if label:
                    self.users.setdefault(name_key(label), user_obj)

    @property
    def create(self) -> str:
        return self.options.get("create") or CREATE_ORGANIZATIONS

    def _owner(self, data):
        if "owner" not in data:
            return self.user
        owner = self.users.get(name_key(data["owner"]))
        if owner is None:
            raise RowError({"owner": _("There is no user %(name)s.") % {"name": data["owner"]}})
        owner_check(self.user, owner)  # the same rule (and message) as the forms and the API
        return owner

    def _value(self, field, data, pipeline=None):
        """The meaning of the row's ``field`` value (see ``imports.values``), or a RowError."""
        value = data[field]
        found = value_resolve(self.catalogue, field, value, self.value_mapping, pipeline=pipeline)
        if found == SKIP:
            raise RowError(
                {
                    field: _("%(value)s is set to “skip” in the value mapping: the row is not imported.")
                    % {"value": value}
                }
            )
        if found is None:
            if field == "pipeline":
                message = _("There is no pipeline %(name)s.") % {"name": value}
            elif field == "stage":
                names = ", ".join(s.display_name for s in self.catalogue.stage_order.get(pipeline.pk, []))
                message = _("%(stage)s is not a stage of %(pipeline)s (%(stages)s).") % {
                    "stage": value,
                    "pipeline": pipeline,
                    "stages": names,
                }
            elif field == "status":
                message = _("%(value)s is not a status this import knows: map it to open, won or lost.") % {
                    "value": value
                }
            else:
                message = _("There is no lost reason %(name)s.") % {"name": value}
            raise RowError({field: message})
        return found

    def _stage(self, data, deal, errors):
        """The deal's stage from the row's pipeline, stage and status cells (None: keep the deal's,
        or the first open stage of the pipeline for a new deal) and the pipeline it is in.

        A cell that means nothing records its error and the checks go on with what is known, so
        the row reports the lost reason it would be refused for too."""
        pipeline = None
        if "pipeline" in data:
            try:
                pipeline = self._value("pipeline", data)
            except RowError as exc:
                errors.update(exc.errors)
        named = pipeline
        if pipeline is None and self.defaults.get("pipeline"):
            pipeline = self.catalogue.pipeline_named(self.defaults["pipeline"])
        pipeline = pipeline or (deal.pipeline if deal is not None else self.catalogue.default_pipeline)
        if pipeline is None:
            errors["pipeline"] = _("There is no pipeline yet: create one first.")
            return None, None

        stage = None
        if "stage" in data:
            chosen = (self.value_mapping.get("stage") or {}).get(data["stage"])
            try:
                stage = self._value("stage", data, pipeline=pipeline)
            except RowError as exc:
                errors.update(exc.errors)
            if stage is not None and stage.pipeline_id != pipeline.pk:
                if named is None and chosen:  # the user's mapping names a stage of another pipeline
                    pipeline = stage.pipeline
                else:
                    errors["stage"] = _("%(stage)s is a stage of %(other)s, not of %(pipeline)s.") % {
                        "stage": stage.display_name,
                        "other": stage.pipeline,
                        "pipeline": pipeline,
                    }
                    stage = None
        status = None
        if "status" in data:
            try:
                status = self._value("status", data)
            except RowError as exc:
                errors.update(exc.errors)
        if status in (WON, LOST) and (stage is None or stage.kind != status):
            # Pipedrive keeps a won or lost deal in the last stage it reached: the status decides.
            if stage is not None:
                self.notes.append(_("last stage reached: %(stage)s") % {"stage": stage.display_name})
            stage = self.catalogue.stage_of_kind(pipeline, status)
            if stage is None:
                errors["status"] = _("%(pipeline)s has no %(status)s stage.") % {
                    "pipeline": pipeline,
                    "status": STATUS_LABELS[status],
                }
        elif status == OPEN and stage is not None and not stage.is_open:
            errors["status"] = _("The status says open but the stage %(stage)s is %(kind)s.") % {
                "stage": stage.display_name,
                "kind": stage.get_kind_display().lower(),
            }
        elif status == OPEN and stage is None and (deal is None or not deal.stage.is_open or named):
            stage = self.catalogue.stage_of_kind(pipeline, OPEN)
        if stage is None and named is not None and (deal is None or deal.pipeline_id != named.pk):
            stage = self.catalogue.stage_of_kind(pipeline, OPEN)
        return stage, pipeline

    def _lost_reason(self, data, stage, errors):
        if stage is None or not stage.is_lost:
            if data.get("lost_reason"):
                self.notes.append(
                    _("lost reason %(reason)s not kept: the deal is not lost") % {"reason": data["lost_reason"]}
                )
            return None, ""
        if data.get("lost_reason"):
            try:
                reason = self._value("lost_reason", data)
            except RowError as exc:
                errors.update(exc.errors)
                return None, ""
            # The other CRM's words stay beside the reason they were mapped to.
            same = name_key(data["lost_reason"]) in (name_key(reason.name), name_key(str(reason)))
            return reason, "" if same else data["lost_reason"][:300]
        reason = self.catalogue.reason_named(LOST_REASON_DEFAULT)
        if reason is None:
            # Not cached: a row that fails after this rolls the new reason back with it.
            reason, _created = LostReason.objects.get_or_create(name=LOST_REASON_DEFAULT, defaults={"order": 99})
        self.notes.append(_("no lost reason in the file: %(reason)s") % {"reason": reason})
        return reason, ""

    def _contact(self, data, org, errors):
        if "contact" not in data:
            return None
        text = data["contact"]
        name, email = _contact_parts(text)
        contacts = Contact.objects.visible_to(self.user)
        contact = None
        if email:
            contact = contacts.filter(email__iexact=email).order_by("pk").first()
        if contact is None:
            contact = contacts.filter(external_id=text).order_by("pk").first()
        if contact is None and name:
            # The same name at another organization is another person.
            org_name = name_key(data.get("organization", ""))
            candidates = contacts.filter(last_name__icontains=name.split()[-1]).select_related("organization")
            for candidate in candidates.order_by("pk"):
                same_org = (
                    not org_name or candidate.organization is None or name_key(candidate.organization.name) == org_name
                )
                if name_key(candidate.full_name) == name_key(name) and same_org:
                    contact = candidate
                    break
        if contact is not None:
            return contact
        if self.create != CREATE_BOTH or not (name or email):
            errors["contact"] = _("There is no contact %(name)s.") % {"name": text}
            return None
        key = email or f"{name_key(name)}|{name_key(data.get('organization', ''))}"
        if key in self.created_contacts:  # named again further down the file
            return Contact.objects.get(pk=self.created_contacts[key])
        first, _sep, last = name.rpartition(" ") if " " in name else ("", "", name)
        values = {"first_name": first, "last_name": last or email.split("@")[0]}
        if email:
            values["email"] = email
        if org is not None:
            values["organization"] = org
        return ("pending", key, values)

    def resolve(self, data: dict, deal=None) -> tuple[dict, dict]:
        """Everything the row refers to, and every error found (by field); writes nothing."""
        errors, found = {}, {}
        try:
            found["owner"] = self._owner(data)
        except RowError as exc:
            errors.update(exc.errors)
        except ValidationError as exc:
            errors.update({k: " ".join(v) for k, v in exc.message_dict.items()})
        org = None
        if "organization" in data:
            org = self.orgs.get(data["organization"])
            if org is None and self.create == CREATE_NOTHING:
                errors["organization"] = _("There is no organization %(name)s.") % {"name": data["organization"]}
        found["organization"] = org
        found["contact"] = self._contact(data, org, errors)
        if "organization" not in data and "contact" not in data:
            errors["organization"] = _("A deal needs an organization or a contact.")
        found["stage"], found["pipeline"] = self._stage(data, deal, errors)
        found["lost_reason"], found["lost_note"] = self._lost_reason(data, found["stage"], errors)
        return found, errors

    def check(self, values: dict) -> dict:
        """The errors :meth:`save` would report besides those of unreadable cells."""
        self.notes = []
        data = _present(values)
        return self.resolve(data)[1] if data.get("name") else {}

    def _deal(self, data, org, contact):
        # Deal names are not unique enough to be a key when the file has ids: an unknown id is a new deal.
        deals = Opportunity.objects.visible_to(self.user)
        if data.get("external_id"):
            return deals.filter(external_id=data["external_id"]).first()
        if org is None and (contact is None or isinstance(contact, tuple)):
            return None
        candidates = deals.filter(name__iexact=data["name"], archived_at__isnull=True)
        candidates = candidates.filter(organization=org) if org else candidates.filter(contact=contact)
        return next((d for d in candidates.order_by("pk") if name_key(d.name) == name_key(data["name"])), None)

    def save(self, values):
        data = _present(values)
        data["name"] = " ".join(data["name"].split())
        org = self.orgs.get(data["organization"]) if "organization" in data else None
        deal = self._deal(data, org, None) if data.get("external_id") or org else None
        found, errors = self.resolve(data, deal)
        if errors:
            raise RowError(errors)
        if org is None and "organization" in data:
            org = self.orgs.get_or_create(data["organization"], self.user, self.notes)
            if isinstance(found["contact"], tuple):
                found["contact"][2]["organization"] = org
        contact = found["contact"]
        if isinstance(contact, tuple):
            _pending, key, contact_values = contact
            contact = contact_create(user=self.user, data=contact_values)
            self.created_contacts[key] = contact.pk
            self.notes.append(_("contact %(name)s created") % {"name": contact})
        if deal is None:
            deal = self._deal(data, org, contact)
        stage, reason, owner = found["stage"], found["lost_reason"], found["owner"]
        if deal is not None and stage is None and found["pipeline"] and deal.pipeline_id != found["pipeline"].pk:
            stage = self.catalogue.stage_of_kind(found["pipeline"], OPEN)
        if stage is not None:
            closed = not stage.is_open
        else:
            closed = deal is not None and not deal.stage.is_open
        if "close_date" in data:
            data.setdefault("closed_at" if closed else "expected_close_date", data["close_date"])
        if "probability" in data:
            number = data["probability"] * 100 if self.probability_scale == FRACTION else data["probability"]
            data["probability"] = int(number.quantize(Decimal("1"), rounding=ROUND_HALF_UP))
            if closed:
                final = stage if stage is not None else deal.stage
                if data["probability"] != final.probability:
                    self.notes.append(
                        _("probability %(value)s %% not kept: a %(status)s deal is %(fixed)s %%")
                        % {
                            "value": data["probability"],
                            "status": STATUS_LABELS[final.kind],
                            "fixed": final.probability,
                        }
                    )
                data.pop("probability")

        fields = {
            key: data[key]
            for key in (
                "amount",
                "currency",
                "expected_close_date",
                "probability",
                "type",
                "next_step",
                "description",
                "lead_source",
                "external_id",
                "custom_fields",
            )
            if key in data
        }
        if "currency" in fields:
            fields["currency"] = fields["currency"].upper()
        if deal is None:
            created = data.get("created_at")
            closed_at = data.get("closed_at")
            deal = opportunity_create(
                user=self.user,
                name=data["name"],
                owner=owner,
                organization=org,
                contact=contact,
                pipeline=found["pipeline"] if stage is None else None,
                stage=stage,
                lost_reason=reason,
                lost_note=found["lost_note"],
                created_at=_noon(created) if created else None,
                closed_at=_noon(closed_at) if closed_at and closed else None,
                **fields,
            )
            return "created", deal
        self._editable(deal)
        update = dict(fields)
        if "owner" in data:
            update["owner"] = owner
        if org is not None:
            update["organization"] = org
        if contact is not None:
            update["contact"] = contact
        if stage is not None and stage.pk != deal.stage_id:
            update["stage"] = stage
            update["lost_reason"] = reason
            if stage.pipeline_id != deal.pipeline_id:  # the file named the new pipeline
                update["pipeline"] = stage.pipeline
        elif reason is not None and deal.status == LOST and reason != deal.lost_reason:
            update["lost_reason"] = reason
        if deal.name != data["name"] and name_key(deal.name) != name_key(data["name"]):
            update["name"] = data["name"]
        deal = opportunity_update(opportunity=deal, user=self.user, data=update)
        return ("updated" if deal.changes else "unchanged"), deal


IMPORTERS = {
    ImportKind.ORGANIZATION: OrganizationImporter,
    ImportKind.CONTACT: ContactImporter,
    ImportKind.PRODUCT: ProductImporter,
    ImportKind.OPPORTUNITY: OpportunityImporter,
}
