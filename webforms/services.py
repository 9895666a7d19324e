"""Every write of the web forms: building a form, receiving a submission, reviewing one.

A submission is received in one transaction: the contact (found by e-mail, case-insensitive), the
organization (found by VAT number, else by name), the deal (through ``opportunity_create``, the
one write path of deals and their stages) and the submission row commit together or not at all.
"""

import dataclasses
import datetime
import re

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.permissions import ChangeNotAllowed, assignable_owners, owner_check
from contacts.models import Contact, Organization
from contacts.services import contact_create, organization_create
from contacts.validators import vat_number_canonical
from core.exceptions import DomainError, ValidationError
from core.outbox import event_emit
from dedupe.detection import contact_same_in_organization, organization_same, tax_id_key
from dedupe.detection import name_key as org_name_key
from opportunities.models import Status
from opportunities.services import opportunity_create
from privacy.services.consent import consent_record

from .models import Submission, WebForm

NOT_YOURS = gettext_lazy("Only managers and administrators manage web forms.")
REPLAY_WINDOW = datetime.timedelta(minutes=10)


class SubmissionReplayed(DomainError):
    default_message = gettext_lazy("This form was already sent. Reload the page to send it again.")


@dataclasses.dataclass
class Visit:
    """What we know about the visitor's request besides their answers."""

    page_url: str = ""
    referrer: str = ""
    utm: dict = dataclasses.field(default_factory=dict)
    ip: str | None = None
    user_agent: str = ""
    language: str = ""
    nonce: str | None = None
    consent_given: bool = False


# --- Building forms --------------------------------------------------------------------------------


def _form_check(user, webform: WebForm | None) -> None:
    if not (user.is_crm_admin or user.is_manager):
        raise ChangeNotAllowed(NOT_YOURS)
    if webform is not None and webform.pk and not WebForm.objects.editable_by(user).filter(pk=webform.pk).exists():
        raise ChangeNotAllowed(NOT_YOURS)


def _assignment_check(user, webform: WebForm) -> None:
    errors = {}
    if webform.stage_id and webform.stage.pipeline_id != webform.pipeline_id:
        errors["stage"] = _("This stage belongs to another pipeline.")
    if webform.assignment == WebForm.Assignment.FIXED:
        if webform.assignee is None:
            errors["assignee"] = _("Choose the user who receives the deals.")
        else:
            try:
                owner_check(user, webform.assignee, field="assignee")
            except ValidationError as exc:
                errors.update(exc.message_dict)
    elif webform.team is None:
        errors["team"] = _("Choose the team whose members receive the deals.")
    else:
        members = User.objects.filter(team=webform.team, is_active=True)
        if not user.is_crm_admin and members.exclude(pk__in=_assignable_ids(user)).exists():
            errors["team"] = _("You cannot give deals to every member of this team: choose one of your teams.")
    if errors:
        raise ValidationError(errors)


def _assignable_ids(user):
    return assignable_owners(user).values("pk")


@transaction.atomic
def webform_save(*, user, webform: WebForm) -> WebForm:
    """Create or change a web form (filled in by the manager's form). The saving manager becomes
    the form's owner: deals, contacts and organizations are written on their behalf."""
    _form_check(user, webform)
    webform.owner = user
    _assignment_check(user, webform)
    webform.full_clean()
    webform.save()
    return webform


# --- Fair assignment -------------------------------------------------------------------------------


def assignee_pick(webform: WebForm) -> User:
    """Who receives the next deal: the fixed user, the next active team member after the last one
    (round-robin, by id) or the active member with the fewest open deals. Inactive users are skipped;
    with nobody left, the form's owner. Call inside the transaction that creates the deal: the
    round-robin locks the form row so that concurrent submissions take turns."""
    if webform.assignment == WebForm.Assignment.FIXED:
        if webform.assignee is not None and webform.assignee.is_active:
            return webform.assignee
        return webform.owner
    members = User.objects.filter(team_id=webform.team_id, is_active=True)
    if webform.assignment == WebForm.Assignment.ROUND_ROBIN:
        last = WebForm.objects.select_for_update().values_list("last_assigned_id", flat=True).get(pk=webform.pk)
        chosen = members.filter(pk__gt=last or 0).order_by("pk").first() or members.order_by("pk").first()
        if chosen is not None:
            WebForm.objects.filter(pk=webform.pk).update(last_assigned=chosen)
            webform.last_assigned = chosen
    else:
        chosen = (
            members.annotate(
                open_deals=Count(
                    "opportunities",
                    filter=Q(opportunities__status=Status.OPEN, opportunities__archived_at__isnull=True),
                )
            )
            .order_by("open_deals", "pk")
            .first()
        )
    return chosen or webform.owner


# --- Receiving a submission ------------------------------------------------------------------------


def _lock(*keys: str) -> None:
    """Serialise the submissions that could create the same contact or organization. PostgreSQL:
    transaction-scoped advisory locks, taken in a fixed order (no deadlock). SQLite: its writers
    are serialised already (IMMEDIATE transactions)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for key in sorted(set(keys)):
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [key])


def _name_key(name: str) -> str:
    return re.sub(r"\s+", " ", name).strip()


def _split_name(name: str, email: str) -> tuple[str, str]:
    parts = _name_key(name).split(" ")
    if len(parts) >= 2:
        return " ".join(parts[:-1])[:100], parts[-1][:100]
    return "", (parts[0] or email.partition("@")[0])[:100]


def _organization_find(vat: str, company: str) -> Organization | None:
    """The company already recorded, by the duplicate detection's rules (dedupe): its VAT number
    or fiscal code in any spelling, else its name without case, accents, punctuation or legal form.
    Among every organization, not only the form owner's: the visitor's company is one company."""
    return organization_same(Organization.objects.all(), tax_id=vat, name=company)


def _deal_name(webform: WebForm, fields: dict) -> str:
    values = {
        "{name}": fields.get("name", ""),
        "{company}": fields.get("company", ""),
        "{email}": fields.get("email", ""),
        "{form}": webform.name,
    }
    name = webform.deal_name_pattern
    for placeholder, value in values.items():
        name = name.replace(placeholder, value)
    name = re.sub(r"^[\s\-–—:·,]+|[\s\-–—:·,]+$", "", name)
    return (name or fields.get("name") or fields.get("email") or webform.name)[:200]


def _lead_create(submission: Submission) -> Submission:
    """Contact, organization and deal for an accepted submission (inside the caller's transaction)."""
    webform = submission.form
    acting = webform.owner
    fields = submission.data
    email = submission.email.lower()
    company = _name_key(fields.get("company", ""))
    vat = vat_number_canonical(fields.get("vat_number", ""))
    # Locked by the same keys the match uses: "Ferri S.r.l." and "FERRI SRL" wait for each other.
    org_key = (
        f"webforms:org:vat:{tax_id_key(vat)}"
        if vat
        else f"webforms:org:name:{org_name_key(company) or company.casefold()}"
    )
    _lock(f"webforms:contact:{email}", *([org_key] if (vat or company) else []))

    owner = assignee_pick(webform)
    contact = Contact.objects.filter(email__iexact=email).select_related("organization")
    contact = contact.order_by("archived_at", "pk").first()
    if contact is not None and contact.organization_id:
        # A person we know already works somewhere: the deal is with that company (what they typed
        # is kept on the submission for the rep to see).
        organization = contact.organization
    else:
        organization = _organization_find(vat, company)
    if organization is None and (vat or company):
        organization = organization_create(
            user=acting,
            data={"name": (company or vat)[:200], "vat_number": vat, "owner": owner, "phone": fields.get("phone", "")},
        )
    if contact is None and organization is not None:
        # A new address of someone the company already has (same phone, or same name there).
        first, last = _split_name(fields.get("name", ""), email)
        contact = contact_same_in_organization(
            organization, first_name=first, last_name=last, phone=fields.get("phone", "")
        )
    if contact is None:
        first, last = _split_name(fields.get("name", ""), email)
        contact = contact_create(
            user=acting,
            data={
                "first_name": first,
                "last_name": last,
                "email": submission.email,
                "phone": fields.get("phone", ""),
                "organization": organization,
                "owner": owner,
            },
        )
    if submission.consent_given:  # the contact's consents (privacy): the exact wording they ticked
        consent_record(
            contact=contact,
            purpose=_("Web form: %(form)s") % {"form": webform.name},
            given=True,
            method="web_form",
            text=submission.consent_text,
            source=f"{webform.name} ({submission.consent_version})" if submission.consent_version else webform.name,
            recorded_at=submission.created_at,
        )
    deal = opportunity_create(
        user=acting,
        name=_deal_name(webform, fields),
        owner=owner,
        organization=organization,
        contact=contact,
        pipeline=webform.pipeline,
        stage=webform.stage,
        description=fields.get("message", ""),
        lead_source=webform.lead_source,
        utm_campaign=submission.utm_campaign,
        lead_form={"id": webform.pk, "name": webform.name, "slug": webform.slug},
    )
    submission.contact, submission.organization, submission.opportunity = contact, organization, deal
    submission.assigned_to = owner
    # One call site for telling the owner: the e-mail goes out from the outbox (handlers.py).
    event_emit(
        "webform.lead_assigned",
        {"submission": submission.pk, "opportunity": deal.pk, "owner": owner.pk, "form": webform.pk},
    )
    return submission


def _replayed_without_token(webform: WebForm, email: str, fields: dict) -> bool:
    """A form posted without a token (the HTML snippet, fetch) sent twice: same answers, minutes apart."""
    since = timezone.now() - REPLAY_WINDOW
    return Submission.objects.filter(form=webform, email__iexact=email, data=fields, created_at__gte=since).exists()


@transaction.atomic
def _receive(*, webform: WebForm, fields: dict, visit: Visit, suspicions: list[str]) -> Submission:
    email = fields.get("email", "")
    if visit.nonce is None and _replayed_without_token(webform, email, fields):
        raise SubmissionReplayed()
    utm = {key: str(visit.utm.get(key, ""))[:200] for key in ("source", "medium", "campaign", "term", "content")}
    submission = Submission.objects.create(
        form=webform,
        status=Submission.Status.REVIEW if suspicions else Submission.Status.ACCEPTED,
        suspicion=", ".join(suspicions)[:200],
        data=fields,
        email=email,
        page_url=visit.page_url[:2000],
        referrer=visit.referrer[:2000],
        utm_source=utm["source"],
        utm_medium=utm["medium"],
        utm_campaign=utm["campaign"],
        utm_term=utm["term"],
        utm_content=utm["content"],
        ip=visit.ip,
        user_agent=visit.user_agent[:500],
        language=visit.language[:8],
        consent_given=visit.consent_given,
        consent_text=webform.consent_text if visit.consent_given else "",
        consent_version=webform.consent_version if visit.consent_given else "",
        nonce=visit.nonce,
    )
    if not suspicions:
        _lead_create(submission)
        submission.save(update_fields=["contact", "organization", "opportunity", "assigned_to"])
    return submission


def submission_receive(*, webform: WebForm, fields: dict, visit: Visit, suspicions: list[str] = ()) -> Submission:
    """Record what a visitor sent. Clean answers become a contact, an organization and a deal in
    the form's stage, assigned fairly; ``suspicions`` (honeypot, too fast, rate limit, mail
    domain) send it to the review queue instead. A token used twice raises SubmissionReplayed
    and nothing is written."""
    try:
        return _receive(webform=webform, fields=fields, visit=visit, suspicions=list(suspicions))
    except IntegrityError as exc:
        if "nonce" in str(exc):
            raise SubmissionReplayed() from None
        raise


def _review_lock(user, submission: Submission) -> Submission:
    if not WebForm.objects.editable_by(user).filter(pk=submission.form_id).exists():
        raise ChangeNotAllowed(NOT_YOURS)
    locked = Submission.objects.select_for_update().select_related("form__owner").get(pk=submission.pk)
    if locked.status != Submission.Status.REVIEW:
        raise DomainError(_("This submission was already reviewed."))
    return locked


@transaction.atomic
def submission_accept(*, user, submission: Submission) -> Submission:
    """Accept a held submission: it becomes a contact, an organization and a deal, as if clean."""
    locked = _review_lock(user, submission)
    _lead_create(locked)
    locked.status = Submission.Status.ACCEPTED
    locked.reviewed_by, locked.reviewed_at = user, timezone.now()
    locked.save()
    return locked


@transaction.atomic
def submission_reject(*, user, submission: Submission, reason: str) -> Submission:
    """Reject a held submission; it is kept (for the statistics) with the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the submission is rejected.")})
    locked = _review_lock(user, submission)
    locked.status = Submission.Status.REJECTED
    locked.reject_reason = reason[:200]
    locked.reviewed_by, locked.reviewed_at = user, timezone.now()
    locked.save()
    return locked


__all__ = [
    "SubmissionReplayed",
    "Visit",
    "assignee_pick",
    "submission_accept",
    "submission_receive",
    "submission_reject",
    "webform_save",
]
