from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_POST

from accounts.permissions import ChangeNotAllowed, can_edit
from core.exceptions import DomainError
from core.exports import Column
from core.middleware import bad_request
from core.views import form_add_errors, list_page
from opportunities import selectors as opportunity_selectors
from opportunities.models import Opportunity

from . import selectors, services
from .filters import QuoteFilter
from .forms import AcceptForm, QuoteForm, QuoteLineForm
from .models import Quote, QuoteLine

EXPORT_COLUMNS = [
    Column(_l("Number"), "number"),
    Column(_l("Title"), "title"),
    Column(_l("Status"), lambda q: q.get_status_display()),
    Column(_l("Customer"), lambda q: str(q.customer or "")),
    Column(_l("Deal"), "opportunity.name"),
    Column(_l("Issue date"), "issue_date"),
    Column(_l("Valid until"), "valid_until"),
    Column(_l("Currency"), "currency"),
    Column(_l("Owner"), lambda q: str(q.owner)),
]


def _quote_or_404(user, pk, *, for_edit=False) -> Quote:
    try:
        quote = selectors.quote_get(user=user, pk=pk)
    except Quote.DoesNotExist:
        raise Http404 from None
    if for_edit and not can_edit(user, quote):
        raise Http404
    return quote


def _report(request, exc) -> None:
    if isinstance(exc, DomainError | ChangeNotAllowed):
        messages.error(request, exc.message)
    else:
        messages.error(request, " ".join(exc.messages))


@login_required
def quote_list(request):
    return list_page(
        request,
        selector=selectors.quote_list,
        filterset_class=QuoteFilter,
        template="quotes/quote_list.html",
        export_columns=EXPORT_COLUMNS,
        export_name="quotes",
    )


@login_required
def quote_detail(request, pk):
    quote = _quote_or_404(request.user, pk)
    lines = list(selectors.quote_lines(quote=quote))
    editable = can_edit(request.user, quote)
    context = {
        "quote": quote,
        "lines": lines,
        "totals": selectors.quote_totals(quote=quote, lines=lines),
        "can_edit": editable,
        "line_form": QuoteLineForm(quote=quote) if editable and quote.is_draft else None,
        "accept_form": AcceptForm() if editable else None,
        # Marking the deal won needs the right to change the deal, not only the quote.
        "can_mark_won": editable and quote.opportunity_id is not None and can_edit(request.user, quote.opportunity),
        "revisions": list(quote.revisions.only("id", "year", "sequence", "status", "title")),
    }
    return render(request, "quotes/quote_detail.html", context)


@login_required
def quote_create(request):
    form = QuoteForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            quote = services.quote_create(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            messages.success(request, _("Draft quote created: add its lines."))
            return redirect(quote)
    return render(request, "partials/record_form.html", _form_context(form, _("New quote")))


def _form_context(form, title, quote=None):
    crumbs = [(_("Quotes"), reverse("quotes:list"))]
    if quote is not None:
        crumbs.append((quote.number, quote.get_absolute_url()))
    return {
        "form": form,
        "title": title,
        "breadcrumbs": crumbs,
        "cancel_url": quote.get_absolute_url() if quote else reverse("quotes:list"),
        "wide_fields": "notes terms title",
    }


@login_required
@require_POST
def quote_create_from_opportunity(request, opportunity_pk):
    try:
        opp = opportunity_selectors.opportunity_get(user=request.user, pk=opportunity_pk)
    except Opportunity.DoesNotExist:
        raise Http404 from None
    if not can_edit(request.user, opp):
        raise Http404
    try:
        quote = services.quote_create(user=request.user, opportunity=opp)
    except ValidationError as exc:
        _report(request, exc)
        return redirect(opp)
    messages.success(request, _("Draft quote created from the deal's lines."))
    return redirect(quote)


@login_required
def quote_edit(request, pk):
    quote = _quote_or_404(request.user, pk, for_edit=True)
    if not quote.is_draft:
        messages.error(request, services.QuoteFrozenError.default_message)
        return redirect(quote)
    form = QuoteForm(request.POST or None, user=request.user, quote=quote)
    if request.method == "POST" and form.is_valid():
        try:
            services.quote_update(quote=quote, user=request.user, data=form.cleaned_data)
        except ValidationError as exc:
            form_add_errors(form, exc)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Changes saved."))
            return redirect(quote)
    return render(request, "partials/record_form.html", _form_context(form, _("Edit quote"), quote))


@login_required
@require_POST
def quote_line_add(request, pk):
    quote = _quote_or_404(request.user, pk, for_edit=True)
    form = QuoteLineForm(request.POST, quote=quote)
    if form.is_valid():
        try:
            services.quote_line_add(quote=quote, user=request.user, **form.cleaned_data)
        except (ValidationError, DomainError) as exc:
            _report(request, exc)
        else:
            messages.success(request, _("Line added."))
    else:
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))
    return redirect(quote)


def _line_or_404(request, pk, line_pk):
    quote = _quote_or_404(request.user, pk, for_edit=True)
    try:
        return quote, quote.lines.get(pk=line_pk)
    except QuoteLine.DoesNotExist:
        raise Http404 from None


@login_required
def quote_line_edit(request, pk, line_pk):
    quote, line = _line_or_404(request, pk, line_pk)
    if not quote.is_draft:
        messages.error(request, services.QuoteFrozenError.default_message)
        return redirect(quote)
    form = QuoteLineForm(request.POST or None, quote=quote, line=line)
    if request.method == "POST" and form.is_valid():
        try:
            services.quote_line_update(line=line, user=request.user, data=form.cleaned_data)
        except ValidationError as exc:
            form_add_errors(form, exc)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Line saved."))
            return redirect(quote)
    return render(request, "partials/record_form.html", _form_context(form, _("Edit line"), quote))


@login_required
@require_POST
def quote_line_remove(request, pk, line_pk):
    quote, line = _line_or_404(request, pk, line_pk)
    try:
        services.quote_line_remove(line=line, user=request.user)
    except DomainError as exc:
        _report(request, exc)
    else:
        messages.success(request, _("Line removed."))
    return redirect(quote)


def _action(request, pk, do, success):
    quote = _quote_or_404(request.user, pk, for_edit=True)
    try:
        result = do(quote)
    except (ValidationError, DomainError, ChangeNotAllowed) as exc:  # e.g. a deal one may not mark won
        _report(request, exc)
        return redirect(quote)
    messages.success(request, success(result) if callable(success) else success)
    return redirect(result)


@login_required
@require_POST
def quote_send(request, pk):
    return _action(
        request,
        pk,
        lambda q: services.quote_send(quote=q, user=request.user),
        lambda q: _("Quote %(number)s issued. It can no longer be changed.") % {"number": q.number},
    )


@login_required
@require_POST
def quote_accept(request, pk):
    form = AcceptForm(request.POST)
    form.is_valid()
    mark_won = bool(form.cleaned_data.get("mark_deal_won"))
    return _action(
        request,
        pk,
        lambda q: services.quote_accept(quote=q, user=request.user, mark_deal_won=mark_won),
        _("Quote accepted.") + (" " + _("The deal is marked as won.") if mark_won else ""),
    )


@login_required
@require_POST
def quote_reject(request, pk):
    return _action(request, pk, lambda q: services.quote_reject(quote=q, user=request.user), _("Quote rejected."))


@login_required
@require_POST
def quote_revise(request, pk):
    return _action(
        request,
        pk,
        lambda q: services.quote_revise(quote=q, user=request.user),
        _("A new draft revision was created; the sent quote is unchanged."),
    )


@login_required
def quote_pdf(request, pk):
    quote = _quote_or_404(request.user, pk)
    from .pdf import quote_pdf_render

    # ``?language=it``: the customer's language, when it is not the one of whoever prints the quote.
    language = request.GET.get("language") or None
    if language is not None and language not in dict(settings.LANGUAGES):
        choices = ", ".join(dict(settings.LANGUAGES))
        return bad_request(request, _("language: choose one of %(choices)s.") % {"choices": choices}, field="language")
    lines = list(selectors.quote_lines(quote=quote))
    pdf = quote_pdf_render(
        quote=quote, lines=lines, totals=selectors.quote_totals(quote=quote, lines=lines), language=language
    )
    name = f"quote-{quote.number.replace('/', '-')}.pdf" if quote.sequence else f"quote-draft-{quote.pk}.pdf"
    response = HttpResponse(pdf, content_type="application/pdf")
    disposition = "attachment" if request.GET.get("download") else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
