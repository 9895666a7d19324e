"""Every write to organizations and contacts.

Each service checks its caller: changes need ``editable_by(user)`` (ChangeNotAllowed otherwise),
and an owner must be one the caller may assign (``accounts.permissions.assignable_owners``),
checked before anything is written."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.permissions import can_purge, lock_for_change, owner_change_check, owner_check
from core.exceptions import ValidationError
from core.outbox import event_emit
from customfields.services import custom_fields_apply
from documents.services import document_files_delete_on_commit

from .models import Contact, Organization

ORGANIZATION_FIELDS = frozenset(
    f.name
    for f in Organization._meta.get_fields()
    if getattr(f, "editable", False) and f.concrete and f.name not in {"id", "created_at", "updated_at", "archived_at"}
)
CONTACT_FIELDS = frozenset(
    f.name
    for f in Contact._meta.get_fields()
    if getattr(f, "editable", False) and f.concrete and f.name not in {"id", "created_at", "updated_at", "archived_at"}
)


NOT_EDITABLE = gettext_lazy("You may see this record but not change it.")


def _owner_on_create(user, data: dict) -> dict:
    """The owner of a new record: the one given (if the caller may assign them), else the caller."""
    if data.get("owner") is None:
        data = {k: v for k, v in data.items() if k != "owner"}
    owner_check(user, data.get("owner", user))
    return data


def _payload(obj) -> dict:
    return {"id": obj.pk, "name": str(obj), "owner": obj.owner_id, "archived": obj.archived_at is not None}


def _apply(obj, data: dict, allowed: frozenset) -> dict:
    unknown = set(data) - allowed
    if unknown:
        raise ValidationError({field: _("This field cannot be changed here.") for field in sorted(unknown)})
    changes = {}
    for field, value in data.items():
        if isinstance(value, str):
            value = value.strip()
        old = getattr(obj, field)
        if old != value:
            changes[field] = (old, value)
            setattr(obj, field, value)
    return changes


@transaction.atomic
def organization_create(*, user, data: dict) -> Organization:
    """Create an organization; its owner defaults to the user creating it."""
    data = _owner_on_create(user, data)
    org = Organization(owner=user)
    data, _custom = custom_fields_apply(org, entity="organization", data=data, creating=True)
    _apply(org, data, ORGANIZATION_FIELDS)
    org.full_clean()
    org.save()
    event_emit("organization.created", {"organization": _payload(org), "changed_by": user.pk})
    return org


@transaction.atomic
def organization_update(*, organization: Organization, user, data: dict) -> Organization:
    org = lock_for_change(Organization, organization.pk, user=user, message=NOT_EDITABLE)
    owner_change_check(user, org, data)
    data, custom_changes = custom_fields_apply(org, entity="organization", data=data)
    changes = {**_apply(org, data, ORGANIZATION_FIELDS), **custom_changes}
    if changes:
        org.full_clean()
        org.save()
        event_emit(
            "organization.updated",
            {"organization": _payload(org), "changed_fields": sorted(changes), "changed_by": user.pk},
        )
    org.changes = changes
    return org


def _set_archived(model, obj, *, user, archived: bool, topic: str, refuse_if=None):
    """Archive or restore ``obj`` (locked), queueing ``<topic>.archived`` / ``<topic>.restored``."""
    locked = lock_for_change(model, obj.pk, user=user, message=NOT_EDITABLE)
    if archived and refuse_if is not None:
        refuse_if(locked)
    if (locked.archived_at is not None) != archived:
        locked.archived_at = timezone.now() if archived else None
        locked.save(update_fields=["archived_at", "updated_at"])
        action = "archived" if archived else "restored"
        event_emit(f"{topic}.{action}", {topic: _payload(locked), "changed_by": user.pk})
    return locked


def _refuse_organization_with_deals(org):
    deals = org.opportunities.filter(archived_at__isnull=True).count()
    if deals:
        raise ValidationError(
            _("%(name)s still has %(count)d deal(s). Archive or move them to another organization first.")
            % {"name": org.name, "count": deals}
        )


def _refuse_contact_with_deals(contact):
    deals = contact.opportunities.filter(archived_at__isnull=True, organization__isnull=True).count()
    if deals:
        raise ValidationError(
            _("%(name)s is the customer of %(count)d deal(s). Archive those deals first.")
            % {"name": contact.full_name, "count": deals}
        )


@transaction.atomic
def organization_archive(*, organization: Organization, user) -> Organization:
    """Archive an organization. Refused while it still has deals that are not archived."""
    return _set_archived(
        Organization,
        organization,
        user=user,
        archived=True,
        topic="organization",
        refuse_if=_refuse_organization_with_deals,
    )


@transaction.atomic
def organization_restore(*, organization: Organization, user) -> Organization:
    return _set_archived(Organization, organization, user=user, archived=False, topic="organization")


@transaction.atomic
def contact_create(*, user, data: dict) -> Contact:
    """Create a contact; its owner defaults to the user creating it."""
    data = _owner_on_create(user, data)
    contact = Contact(owner=user)
    data, _custom = custom_fields_apply(contact, entity="contact", data=data, creating=True)
    _apply(contact, data, CONTACT_FIELDS)
    contact.full_clean()
    contact.save()
    event_emit("contact.created", {"contact": _payload(contact), "changed_by": user.pk})
    return contact


@transaction.atomic
def contact_update(*, contact: Contact, user, data: dict) -> Contact:
    obj = lock_for_change(Contact, contact.pk, user=user, message=NOT_EDITABLE)
    owner_change_check(user, obj, data)
    data, custom_changes = custom_fields_apply(obj, entity="contact", data=data)
    changes = {**_apply(obj, data, CONTACT_FIELDS), **custom_changes}
    if changes:
        obj.full_clean()
        obj.save()
        event_emit(
            "contact.updated", {"contact": _payload(obj), "changed_fields": sorted(changes), "changed_by": user.pk}
        )
    obj.changes = changes
    return obj


@transaction.atomic
def contact_archive(*, contact: Contact, user) -> Contact:
    """Archive a contact. Refused while they are the only party of deals that are not archived."""
    return _set_archived(
        Contact, contact, user=user, archived=True, topic="contact", refuse_if=_refuse_contact_with_deals
    )


@transaction.atomic
def contact_restore(*, contact: Contact, user) -> Contact:
    return _set_archived(Contact, contact, user=user, archived=False, topic="contact")


def _purge(model, obj, *, user, topic: str) -> None:
    """Delete an archived ``obj`` for good, with its documents (files after commit) and activities.

    Admins only, archived records only (delete = archive first), and never while a deal or a quote
    (archived ones included) still refers to it."""
    locked = model.objects.select_for_update().get(pk=obj.pk)
    name = str(locked)
    if not can_purge(user, locked):
        raise PermissionDenied(_("Only an administrator can delete records for good."))
    if locked.archived_at is None:
        raise ValidationError(_("Archive %(name)s before deleting it for good.") % {"name": name})
    deals, quotes = locked.opportunities.count(), locked.quotes.count()
    if deals or quotes:
        raise ValidationError(
            _(
                "%(name)s is still referred to by %(deals)d deal(s) and %(quotes)d quote(s), archived ones "
                "included. Delete those deals for good, or move them to another customer, first."
            )
            % {"name": name, "deals": deals, "quotes": quotes}
        )
    payload = _payload(locked)
    document_files_delete_on_commit(locked.documents.all())
    locked.delete()
    event_emit(f"{topic}.purged", {topic: payload, "changed_by": user.pk})


@transaction.atomic
def organization_purge(*, organization: Organization, user) -> None:
    """Delete an archived organization for good (see ``_purge``); its contacts and subsidiaries
    stay, without it."""
    _purge(Organization, organization, user=user, topic="organization")


@transaction.atomic
def contact_purge(*, contact: Contact, user) -> None:
    """Delete an archived contact for good (see ``_purge``)."""
    _purge(Contact, contact, user=user, topic="contact")
