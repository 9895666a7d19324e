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

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import owner_check
from contacts.models import Contact, Organization
from contacts.services import contact_create, contact_update, organization_create, organization_update
from core.currency import base_currency
from opportunities.models import Opportunity
from opportunities.services import default_pipeline, opportunity_create, opportunity_update
from pipeline.models import LostReason, Pipeline
from products.models import Product
from products.services import product_create, product_update

from .fields import fields_for
from .keys import compact_key, name_key
from .models import ImportKind

LOST_REASON_DEFAULT = "Not recorded"


class RowError(Exception):
    """A row refused, with ``{field: message}``."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors


def _present(values: dict) -> dict:
    """Only the cells that hold something: an empty cell never erases what a record already has."""
    return {k: v for k, v in values.items() if v not in ("", None)}


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
            changed = {k: v for k, v in data.items() if getattr(product, k) != v}
            action = "updated" if changed else "unchanged"
            if changed:
                product = product_update(product=product, user=self.user, data=changed)
        self.by_name[compact_key(product.name)] = product.pk
        return action, product


class OpportunityImporter(Importer):
    kind = ImportKind.OPPORTUNITY

    def __init__(self, *, user):
        super().__init__(user=user)
        self.orgs = _OrganizationLookup(user)
        self.pipelines = {name_key(p.name): p for p in Pipeline.objects.all()}
        for pipeline in list(self.pipelines.values()):
            self.pipelines.setdefault(name_key(pipeline.display_name), pipeline)
        self.stages = {}
        for pipeline in Pipeline.objects.prefetch_related("stages"):
            for stage in pipeline.stages.all():
                stage.pipeline = pipeline
                self.stages.setdefault((pipeline.pk, name_key(stage.name)), stage)
                self.stages.setdefault((pipeline.pk, name_key(stage.display_name)), stage)
        self.reasons = {}
        for reason in LostReason.objects.all():
            self.reasons.setdefault(name_key(reason.name), reason)
            self.reasons.setdefault(name_key(str(reason)), reason)
        # The user directory is open to every signed-in user; whether the importer may give a deal
        # to the one a row names is the owner rule's business (``_owner``).
        self.users = {}
        for user_obj in User.objects.filter(is_active=True):
            for label in (user_obj.username, user_obj.email, user_obj.get_full_name()):
                if label:
                    self.users.setdefault(name_key(label), user_obj)

    def _owner(self, data):
        if "owner" not in data:
            return self.user
        owner = self.users.get(name_key(data["owner"]))
        if owner is None:
            raise RowError({"owner": _("There is no user %(name)s.") % {"name": data["owner"]}})
        owner_check(self.user, owner)  # the same rule (and message) as the forms and the API
        return owner

    def _stage(self, data, deal=None):
        """The row's stage: in its ``pipeline`` column's pipeline, else in the matched deal's (a deal
        changes pipeline only when the file names the new one), else in the default pipeline."""
        pipeline = None
        if "pipeline" in data:
            pipeline = self.pipelines.get(name_key(data["pipeline"]))
            if pipeline is None:
                raise RowError({"pipeline": _("There is no pipeline %(name)s.") % {"name": data["pipeline"]}})
        if "stage" not in data:
            return None
        pipeline = pipeline or (deal.pipeline if deal is not None else default_pipeline())
        stage = self.stages.get((pipeline.pk, name_key(data["stage"])))
        if stage is None:
            names = ", ".join(s.display_name for (pk, _key), s in self.stages.items() if pk == pipeline.pk)
            names = ", ".join(dict.fromkeys(names.split(", ")))
            raise RowError(
                {
                    "stage": _("%(stage)s is not a stage of %(pipeline)s (%(stages)s).")
                    % {"stage": data["stage"], "pipeline": pipeline, "stages": names}
                }
            )
        return stage

    def _lost_reason(self, data, stage):
        if stage is None or not stage.is_lost:
            return None
        if data.get("lost_reason"):
            reason = self.reasons.get(name_key(data["lost_reason"]))
            if reason is None:
                raise RowError({"lost_reason": _("There is no lost reason %(name)s.") % {"name": data["lost_reason"]}})
            return reason
        key = name_key(LOST_REASON_DEFAULT)
        if key not in self.reasons:
            self.reasons[key], _created = LostReason.objects.get_or_create(
                name=LOST_REASON_DEFAULT, defaults={"order": 99}
            )
        return self.reasons[key]

    def _contact(self, data):
        if "contact" not in data:
            return None
        text = data["contact"]
        contacts = Contact.objects.visible_to(self.user)
        contact = contacts.filter(Q(email__iexact=text) | Q(external_id=text)).order_by("pk").first()
        if contact is None:
            for candidate in contacts.filter(last_name__icontains=text.split()[-1]):
                if name_key(candidate.full_name) == name_key(text):
                    contact = candidate
                    break
        if contact is None:
            raise RowError({"contact": _("There is no contact %(name)s.") % {"name": text}})
        return contact

    def save(self, values):
        data = _present(values)
        data["name"] = " ".join(data["name"].split())
        owner = self._owner(data)
        contact = self._contact(data)
        org = self.orgs.get_or_create(data["organization"], self.user, self.notes) if "organization" in data else None
        if org is None and contact is None:
            raise RowError({"organization": _("A deal needs an organization or a contact.")})

        # Deal names are not unique enough to be a key when the file has ids: an unknown id is a new deal.
        deal = None
        deals = Opportunity.objects.visible_to(self.user)
        if data.get("external_id"):
            deal = deals.filter(external_id=data["external_id"]).first()
        else:
            candidates = deals.filter(name__iexact=data["name"], archived_at__isnull=True)
            candidates = candidates.filter(organization=org) if org else candidates.filter(contact=contact)
            deal = next((d for d in candidates.order_by("pk") if name_key(d.name) == name_key(data["name"])), None)
        stage = self._stage(data, deal)
        reason = self._lost_reason(data, stage)

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
            )
            if key in data
        }
        if "currency" in fields:
            fields["currency"] = fields["currency"].upper()
        if deal is None:
            closed = data.get("closed_at")
            created = data.get("created_at")
            deal = opportunity_create(
                user=self.user,
                name=data["name"],
                owner=owner,
                organization=org,
                contact=contact,
                stage=stage,
                lost_reason=reason,
                created_at=_noon(created) if created else None,
                closed_at=_noon(closed) if closed and stage is not None and not stage.is_open else None,
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
