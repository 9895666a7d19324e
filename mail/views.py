from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import sees_everything
from contacts.models import Contact, Organization
from core.outbox import task_request
from documents.models import Document
from opportunities.models import Opportunity

from . import selectors, services
from .addresses import user_address
from .forms import ComposeForm, EmailTemplateForm, MailboxForm
from .models import EmailMessage, EmailTemplate, Mailbox
from .rendering import email_body

RECORDS = {"opportunity": Opportunity, "contact": Contact, "organization": Organization}


def _record_or_404(user, kind, pk):
    model = RECORDS.get(kind)
    if model is None:
        raise Http404
    try:
        return model.objects.visible_to(user).get(pk=pk)
    except model.DoesNotExist:
        raise Http404 from None


def _email_or_404(user, pk) -> EmailMessage:
    try:
        return selectors.email_get(user=user, pk=pk)
    except EmailMessage.DoesNotExist:
        raise Http404 from None


def _id_param(request, name: str) -> int | None:
    """The id a link or the form passes as ``name``; not a whole number is a 404 (a hand-edited
    address), never a 500."""
    value = request.GET.get(name) or request.POST.get(name)
    if not value:
        return None
    if not value.isdigit() or len(value) > 18:
        raise Http404
    return int(value)


def _form_errors(form, exc) -> None:
    for field, errors in getattr(exc, "message_dict", {"__all__": exc.messages}).items():
        form.add_error(field if field in form.fields else None, errors)


# --- mailboxes -----------------------------------------------------------------------------------


def _mailbox_or_404(user, pk) -> Mailbox:
    try:
        return Mailbox.objects.editable_by(user).get(pk=pk)
    except Mailbox.DoesNotExist:
        raise Http404 from None


def _mailbox_form_save(request, form, mailbox=None):
    data = {k: form.cleaned_data[k] for k in ("name", "host", "port", "tls_mode", "username", "folders", "active")}
    if mailbox is None or "shared" in form.cleaned_data:
        data["owner"] = (
            None if form.cleaned_data.get("shared") else (mailbox.owner if mailbox and mailbox.owner else request.user)
        )
    try:
        return services.mailbox_save(user=request.user, mailbox=mailbox, password=form.cleaned_data["password"], **data)
    except DjangoValidationError as exc:
        _form_errors(form, exc)
    except PermissionDenied as exc:
        form.add_error(None, str(exc))
    return None


@login_required
def mailbox_list(request):
    form = MailboxForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        mailbox = _mailbox_form_save(request, form)
        if mailbox:
            messages.success(
                request, _("Mailbox “%(name)s” connected. Test the connection below.") % {"name": mailbox.name}
            )
            return redirect("mail:mailbox_list")
    context = {
        "mailboxes": selectors.mailbox_list(user=request.user),
        "form": form,
        "own_address": user_address(request.user.pk),
    }
    return render(request, "mail/mailbox_list.html", context)


@login_required
def mailbox_edit(request, pk):
    mailbox = _mailbox_or_404(request.user, pk)
    form = MailboxForm(request.POST or None, instance=mailbox, user=request.user)
    if request.method == "POST" and form.is_valid() and _mailbox_form_save(request, form, mailbox):
        messages.success(request, _("Mailbox saved."))
        return redirect("mail:mailbox_list")
    return render(request, "mail/mailbox_form.html", {"mailbox": mailbox, "form": form})


STEP_LABELS = {
    "dns": _("DNS"),
    "connect": _("Connection"),
    "tls": _("TLS"),
    "login": _("Login"),
    "folder": _("Folder"),
    "password": _("Password"),
}


@login_required
@require_POST
def mailbox_test(request, pk):
    mailbox = _mailbox_or_404(request.user, pk)
    ok, step, message = services.mailbox_connection_test(mailbox=mailbox)
    if ok:
        messages.success(request, message)
    else:
        messages.error(
            request, _("%(step)s failed: %(message)s") % {"step": STEP_LABELS.get(step, step), "message": message}
        )
    return redirect("mail:mailbox_list")


@login_required
@require_POST
def mailbox_poll_now(request, pk):
    mailbox = _mailbox_or_404(request.user, pk)
    task_request("mail.tasks.mailbox_poll", kwargs={"mailbox_id": mailbox.pk}, waiting="mailbox polls")
    messages.info(request, _("Checking “%(name)s” for new e-mail in the background.") % {"name": mailbox.name})
    return redirect("mail:mailbox_list")


@login_required
@require_POST
def mailbox_delete(request, pk):
    mailbox = _mailbox_or_404(request.user, pk)
    mailbox.delete()
    messages.success(request, _("Mailbox removed; the e-mails already imported stay."))
    return redirect("mail:mailbox_list")


# --- reading -------------------------------------------------------------------------------------


@login_required
def email_detail(request, pk):
    email = _email_or_404(request.user, pk)
    images = request.GET.get("images") == "1"
    body, blocked = email_body(email, images=images)
    thread = selectors.email_list_thread(user=request.user, email=email)
    return render(
        request,
        "mail/email_detail.html",
        {"email": email, "body": body, "images_blocked": blocked, "thread": thread},
    )


@login_required
def record_threads(request, kind, pk):
    record = _record_or_404(request.user, kind, pk)
    page = selectors.thread_page(user=request.user, page=request.GET.get("page", 1), **{kind: record})
    return render(request, "mail/record_threads.html", {"record": record, "kind": kind, "page": page})


@login_required
def unlinked_list(request):
    emails = list(selectors.unlinked_list(user=request.user)[:100])
    for email in emails:
        email.deal_choices = list(selectors.deal_choices(user=request.user, email=email))
    return render(request, "mail/unlinked_list.html", {"emails": emails})


@login_required
@require_POST
def email_link(request, pk):
    email = _email_or_404(request.user, pk)
    try:
        deal = Opportunity.objects.editable_by(request.user).get(pk=request.POST.get("opportunity") or 0)
    except (Opportunity.DoesNotExist, ValueError):
        messages.error(request, _("Choose a deal you may change."))
        return redirect("mail:unlinked")
    services.email_link(email=email, opportunity=deal, user=request.user)
    messages.success(request, _("E-mail filed under “%(deal)s”.") % {"deal": deal.name})
    return redirect("mail:unlinked")


@login_required
@require_POST
def email_dismiss(request, pk):
    email = _email_or_404(request.user, pk)
    services.email_dismiss(email=email, user=request.user)
    messages.success(request, _("E-mail dismissed."))
    return redirect("mail:unlinked")


# --- sending -------------------------------------------------------------------------------------


def _recipients(record, kind) -> str:
    if kind == "contact":
        return record.email
    if kind == "opportunity" and record.contact_id and record.contact.email:
        return record.contact.email
    return ""


@login_required
def compose(request, kind, pk):
    if kind not in ("opportunity", "contact"):
        raise Http404
    record = _record_or_404(request.user, kind, pk)
    reply_to = None
    if reply_id := _id_param(request, "reply"):
        reply_to = _email_or_404(request.user, reply_id)
    quote = None
    if kind == "opportunity" and (quote_id := _id_param(request, "quote")):
        quote = get_object_or_404(record.quotes.all(), pk=quote_id)
    documents = Document.objects.visible_to(request.user).filter(**{kind: record})
    opportunity = record if kind == "opportunity" else None
    contact = record if kind == "contact" else None
    initial = {"to": _recipients(record, kind)}
    if reply_to is not None:
        initial["to"] = reply_to.from_address if not reply_to.outgoing else ", ".join(reply_to.to)
        initial["subject"] = (
            reply_to.subject if reply_to.subject.lower().startswith("re:") else f"Re: {reply_to.subject}"
        )
    if quote is not None:
        initial["subject"] = _("Quote %(number)s") % {"number": quote.number or quote.pk}
    template = (
        EmailTemplate.objects.filter(pk=request.GET.get("template") or 0).first()
        if request.GET.get("template", "").isdigit()
        else None
    )
    if template is not None:
        initial["subject"] = services.template_fill(
            template.subject, opportunity=opportunity, contact=contact, user=request.user
        )
        initial["body"] = services.template_fill(
            template.body, opportunity=opportunity, contact=contact, user=request.user
        )
    form = ComposeForm(request.POST or None, initial=initial, documents=documents)
    if request.method == "POST" and form.is_valid():
        extra = []
        if quote is not None:
            extra.append(_quote_pdf(quote))
        try:
            email = services.email_compose(
                user=request.user,
                to=form.cleaned_data["to"],
                cc=form.cleaned_data["cc"],
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
                opportunity=opportunity,
                contact=contact,
                reply_to=reply_to,
                documents=form.cleaned_data.get("documents") or [],
                attachments=extra,
            )
        except DjangoValidationError as exc:
            _form_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("E-mail queued for sending."))
            return redirect("mail:detail", email.pk)
    return render(
        request,
        "mail/compose.html",
        {
            "form": form,
            "record": record,
            "kind": kind,
            "reply_to": reply_to,
            "quote": quote,
            "templates": EmailTemplate.objects.all(),
        },
    )


def _quote_pdf(quote) -> tuple[str, bytes, str]:
    from quotes.pdf import quote_pdf_render
    from quotes.selectors import quote_lines, quote_totals

    lines = list(quote_lines(quote=quote))
    pdf = quote_pdf_render(quote=quote, lines=lines, totals=quote_totals(quote=quote, lines=lines))
    name = f"quote-{quote.number.replace('/', '-')}.pdf" if quote.sequence else f"quote-draft-{quote.pk}.pdf"
    return name, pdf, "application/pdf"


@login_required
@require_POST
def email_retry(request, pk):
    email = _email_or_404(request.user, pk)
    try:
        services.email_retry(email=email, user=request.user)
    except PermissionDenied:
        raise Http404 from None  # seen but not one's own to send again: 404, as every page
    messages.info(request, _("Sending again."))
    return redirect("mail:detail", email.pk)


# --- templates -----------------------------------------------------------------------------------


def _manages_templates(user) -> bool:
    return sees_everything(user) or user.is_manager


@login_required
def template_list(request, pk=None):
    template = get_object_or_404(EmailTemplate, pk=pk) if pk else None
    form = EmailTemplateForm(request.POST or None, instance=template)
    if request.method == "POST":
        if not _manages_templates(request.user):
            raise PermissionDenied
        if form.is_valid():
            try:
                services.email_template_save(user=request.user, template=template, **form.cleaned_data)
            except DjangoValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("Template saved."))
                return redirect("mail:templates")
    return render(
        request,
        "mail/template_list.html",
        {
            "templates": EmailTemplate.objects.all(),
            "form": form,
            "template": template,
            "can_manage": _manages_templates(request.user),
        },
    )


@login_required
@require_POST
def template_delete(request, pk):
    template = get_object_or_404(EmailTemplate, pk=pk)
    services.email_template_delete(user=request.user, template=template)
    messages.success(request, _("Template deleted."))
    return redirect(reverse("mail:templates"))
