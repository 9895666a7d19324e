"""Every write to a quote.

Numbering: a quote gets its number (``2026/0001``) when it is **sent**, not when it is created, so
drafts that are thrown away leave no holes. The per-year :class:`QuoteCounter` row is locked with
``SELECT … FOR UPDATE`` while the number is taken, which makes numbers gap-free and unique under
concurrency. A sent quote is frozen: changing it means :func:`quote_revise` (a new draft).

Permissions (checked here, whatever the face): a quote is changed by whoever may change it
(``Quote.objects.editable_by``: its owner, their managers, admins); a quote is made for a deal
(created or revised) only by someone who may change that deal, and accepting one with
``mark_deal_won`` moves the deal through ``opportunity_move_stage``, which checks the same.
"""

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.permissions import ChangeNotAllowed, can_edit, lock_for_change
from core.exceptions import DomainError, ValidationError
from core.outbox import event_emit
from opportunities.services import opportunity_move_stage
from pipeline.models import Stage

from .models import Quote, QuoteCounter, QuoteLine

DEFAULT_VALIDITY_DAYS = 30
HEADER_FIELDS = frozenset({"title", "organization", "contact", "valid_until", "currency", "notes", "terms"})
LINE_FIELDS = frozenset(
    {"product", "description", "quantity", "unit_price", "discount_percent", "vat_rate", "vat_exemption_note"}
)


class QuoteFrozenError(DomainError):
    default_message = _("This quote has been sent and can no longer be changed. Make a revision instead.")


NOT_EDITABLE = gettext_lazy("You may see this quote but not change it.")
DEAL_NOT_EDITABLE = gettext_lazy("You can make quotes only for deals you may change.")


def _lock(quote: Quote | int, user) -> Quote:
    """Lock the quote for a change by ``user`` (ChangeNotAllowed if they may not change it)."""
    pk = quote.pk if isinstance(quote, Quote) else quote
    return lock_for_change(Quote, pk, user=user, message=NOT_EDITABLE)


def _check_deal(user, opportunity) -> None:
    """A quote is made for a deal only by someone who may change the deal (README, permissions)."""
    if opportunity is not None and not can_edit(user, opportunity):
        raise ChangeNotAllowed(DEAL_NOT_EDITABLE)


def _lock_draft(quote: Quote | int, user) -> Quote:
    quote = _lock(quote, user)
    if quote.status != Quote.Status.DRAFT:
        raise QuoteFrozenError()
    return quote


def _payload(quote: Quote) -> dict:
    return {
        "id": quote.pk,
        "number": quote.number,
        "status": quote.status,
        "opportunity": quote.opportunity_id,
        "owner": quote.owner_id,
    }


def _clean_line(line: QuoteLine) -> None:
    if line.vat_rate is not None and Decimal(line.vat_rate) == 0 and not (line.vat_exemption_note or "").strip():
        raise ValidationError(
            {"vat_exemption_note": _("A 0% VAT line needs the exemption note, e.g. “Esente art. 10 DPR 633/72”.")}
        )
    if not (line.description or "").strip():
        if line.product is None:
            raise ValidationError({"description": _("Describe the line or choose a product.")})
        line.description = line.product.name
    line.full_clean()


@transaction.atomic
def quote_create(
    *,
    user,
    title: str = "",
    opportunity=None,
    organization=None,
    contact=None,
    currency: str | None = None,
    valid_until: datetime.date | None = None,
    notes: str = "",
    terms: str = "",
    copy_lines: bool = True,
) -> Quote:
    """A new draft quote, from scratch or from a deal (whose customer, currency and lines it copies).

    Made for a deal only by someone who may change that deal (ChangeNotAllowed otherwise)."""
    _check_deal(user, opportunity)
    if opportunity is not None:
        organization = organization or opportunity.organization
        contact = contact or opportunity.contact
        currency = currency or opportunity.currency
        title = title or opportunity.name
    quote = Quote(
        title=(title or "").strip(),
        opportunity=opportunity,
        organization=organization,
        contact=contact,
        currency=(currency or "EUR").upper(),
        valid_until=valid_until,
        notes=notes,
        terms=terms,
        owner=user,
    )
    if not quote.title:
        raise ValidationError({"title": _("Give the quote a title.")})
    if not (opportunity or organization or contact):
        raise ValidationError({"organization": _("Choose the customer: a deal, an organization or a contact.")})
    quote.full_clean()
    quote.save()
    if opportunity is not None and copy_lines:
        QuoteLine.objects.bulk_create(
            QuoteLine(
                quote=quote,
                product=line.product,
                description=line.description or (line.product.name if line.product else ""),
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount_percent=line.discount_percent,
                vat_rate=line.product.vat_rate if line.product else Decimal("22.00"),
                position=index,
            )
            for index, line in enumerate(opportunity.lines.select_related("product").order_by("position", "id"))
        )
    event_emit("quote.created", {"quote": _payload(quote), "changed_by": user.pk})
    return quote


@transaction.atomic
def quote_update(*, quote: Quote | int, user, data: dict) -> Quote:
    """Change the header of a draft quote. A sent quote refuses: revise it instead."""
    unknown = set(data) - HEADER_FIELDS
    if unknown:
        raise ValidationError({field: _("This field cannot be changed here.") for field in sorted(unknown)})
    quote = _lock_draft(quote, user)
    for field, value in data.items():
        setattr(quote, field, value)
    quote.title = quote.title.strip()
    quote.currency = quote.currency.upper()
    quote.full_clean()
    quote.save()
    return quote


@transaction.atomic
def quote_line_add(*, quote: Quote | int, user, **data) -> QuoteLine:
    """Add a line to a draft quote. Without a price or VAT rate, the product's are used."""
    unknown = set(data) - LINE_FIELDS
    if unknown:
        raise ValidationError({field: _("This field cannot be changed here.") for field in sorted(unknown)})
    quote = _lock_draft(quote, user)
    product = data.get("product")
    if data.get("unit_price") is None:
        if product is None:
            raise ValidationError({"unit_price": _("Enter a unit price or choose a product.")})
        data["unit_price"] = product.unit_price
    if data.get("vat_rate") is None:
        data["vat_rate"] = product.vat_rate if product else Decimal("22.00")
    data = {key: value for key, value in data.items() if value is not None}
    line = QuoteLine(quote=quote, position=quote.lines.count(), **data)
    _clean_line(line)
    line.save()
    return line


@transaction.atomic
def quote_line_update(*, line: QuoteLine, user, data: dict) -> QuoteLine:
    unknown = set(data) - LINE_FIELDS
    if unknown:
        raise ValidationError({field: _("This field cannot be changed here.") for field in sorted(unknown)})
    _lock_draft(line.quote_id, user)
    line = QuoteLine.objects.get(pk=line.pk)
    for field, value in data.items():
        if value is not None or field == "product":
            setattr(line, field, value)
    _clean_line(line)
    line.save()
    return line


@transaction.atomic
def quote_line_remove(*, line: QuoteLine, user) -> None:
    _lock_draft(line.quote_id, user)
    QuoteLine.objects.filter(pk=line.pk).delete()


def quote_number_next(*, year: int) -> int:
    """Take the next number of ``year``. Must run inside the transaction that saves the quote."""
    QuoteCounter.objects.bulk_create([QuoteCounter(year=year, last=0)], ignore_conflicts=True)
    counter = QuoteCounter.objects.select_for_update().get(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return counter.last


@transaction.atomic
def quote_send(*, quote: Quote | int, user, issue_date: datetime.date | None = None) -> Quote:
    """Issue a draft: it gets its number, its issue date and validity, and is frozen from now on."""
    quote = _lock_draft(quote, user)
    if not quote.lines.exists():
        raise ValidationError({"lines": _("Add at least one line before sending the quote.")})
    quote.issue_date = issue_date or quote.issue_date or timezone.localdate()
    if quote.valid_until is None:
        quote.valid_until = quote.issue_date + datetime.timedelta(days=DEFAULT_VALIDITY_DAYS)
    if quote.valid_until < quote.issue_date:
        raise ValidationError({"valid_until": _("A quote cannot expire before it is issued.")})
    quote.year = quote.issue_date.year
    quote.sequence = quote_number_next(year=quote.year)
    quote.status = Quote.Status.SENT
    quote.sent_at = timezone.now()
    quote.save()
    event_emit("quote.sent", {"quote": _payload(quote), "changed_by": user.pk})
    return quote


def _decide(quote: Quote | int, status: str, user) -> Quote:
    quote = _lock(quote, user)
    if quote.status != Quote.Status.SENT:
        raise DomainError(_("Only a sent quote can be accepted or rejected."))
    quote.status = status
    quote.decided_at = timezone.now()
    quote.save(update_fields=["status", "decided_at", "updated_at"])
    event_emit(f"quote.{status}", {"quote": _payload(quote), "changed_by": user.pk})
    return quote


@transaction.atomic
def quote_accept(*, quote: Quote | int, user, mark_deal_won: bool = False) -> Quote:
    """The customer accepted. With ``mark_deal_won`` its open deal moves to the pipeline's won stage
    through the one stage-change service, which refuses (ChangeNotAllowed, and nothing is saved) a
    caller who may not change the deal: owning the quote is not enough."""
    quote = _decide(quote, Quote.Status.ACCEPTED, user)
    opp = quote.opportunity
    if mark_deal_won and opp is not None and opp.is_open:
        won = opp.pipeline.stages.filter(kind=Stage.Kind.WON).order_by("order").first()
        if won is None:
            raise ValidationError({"stage": _("The deal's pipeline has no won stage.")})
        opportunity_move_stage(opportunity=opp, stage=won, user=user)
    return quote


@transaction.atomic
def quote_reject(*, quote: Quote | int, user) -> Quote:
    return _decide(quote, Quote.Status.REJECTED, user)


@transaction.atomic
def quote_expire_due(*, today: datetime.date | None = None) -> int:
    """Mark sent quotes past their validity as expired. Safe to run any number of times."""
    today = today or timezone.localdate()
    return Quote.objects.filter(status=Quote.Status.SENT, valid_until__lt=today).update(
        status=Quote.Status.EXPIRED, updated_at=timezone.now()
    )


@transaction.atomic
def quote_revise(*, quote: Quote | int, user) -> Quote:
    """A new draft copying a sent (or decided) quote and its lines, linked to it."""
    source = _lock(quote, user)
    if source.status == Quote.Status.DRAFT:
        raise DomainError(_("A draft can be edited directly; there is no need to revise it."))
    _check_deal(user, source.opportunity)
    revision = Quote.objects.create(
        title=source.title,
        opportunity=source.opportunity,
        organization=source.organization,
        contact=source.contact,
        currency=source.currency,
        notes=source.notes,
        terms=source.terms,
        revision_of=source,
        owner=user,
    )
    QuoteLine.objects.bulk_create(
        QuoteLine(
            quote=revision,
            product_id=line.product_id,
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount_percent=line.discount_percent,
            vat_rate=line.vat_rate,
            vat_exemption_note=line.vat_exemption_note,
            position=line.position,
        )
        for line in source.lines.order_by("position", "id")
    )
    event_emit("quote.created", {"quote": _payload(revision), "revision_of": source.pk, "changed_by": user.pk})
    return revision
