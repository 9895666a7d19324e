"""The user's API tokens (create, shown once; list; revoke) and webhooks (create, pause and resume,
delete, rotate the secret, shown once; recent deliveries and redelivery)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.exceptions import ValidationError
from core.views import form_add_errors

from . import selectors, services
from .forms import ApiTokenForm, WebhookForm
from .models import ApiToken, WebhookDelivery, WebhookSubscription


@login_required
def token_list(request):
    form = ApiTokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        try:
            token, new_token = services.api_token_create(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            messages.success(
                request, _("Token “%(name)s” created. Copy it now: it will not be shown again.") % {"name": token.name}
            )
            form = ApiTokenForm()
    tokens = ApiToken.objects.filter(user=request.user)
    return render(request, "integrations/token_list.html", {"form": form, "tokens": tokens, "new_token": new_token})


@login_required
@require_POST
def token_revoke(request, pk):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    services.api_token_revoke(token=token, user=request.user)
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("integrations:tokens")


# --- Webhooks ------------------------------------------------------------------------------------
# A new secret is shown once, on the page the create or rotation redirects to (kept in the session
# for that one page view, so reloading it does not repeat the POST and the secret is gone after).
NEW_SECRET_SESSION_KEY = "integrations.webhook_new_secret"  # noqa: S105 (a session key name)


def _show_secret_once(request, hook: WebhookSubscription) -> None:
    request.session[NEW_SECRET_SESSION_KEY] = {"id": hook.pk, "secret": hook.secret}


def _own_webhook(request, pk) -> WebhookSubscription:
    try:
        return selectors.webhook_get(user=request.user, pk=pk)
    except WebhookSubscription.DoesNotExist:
        raise Http404 from None


@login_required
def webhook_list(request):
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            hook = services.webhook_create(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            _show_secret_once(request, hook)
            messages.success(request, _("Webhook created. Copy its secret now: it will not be shown again."))
            return redirect("integrations:webhooks")
    new_secret = request.session.pop(NEW_SECRET_SESSION_KEY, None)
    webhooks = selectors.webhook_list(user=request.user)
    return render(
        request, "integrations/webhook_list.html", {"form": form, "webhooks": webhooks, "new_secret": new_secret}
    )


@login_required
def webhook_detail(request, pk):
    hook = _own_webhook(request, pk)
    new_secret = request.session.pop(NEW_SECRET_SESSION_KEY, None)
    if new_secret and new_secret["id"] != hook.pk:
        new_secret = None
    deliveries = selectors.webhook_recent_deliveries(webhook=hook, user=request.user)
    return render(
        request,
        "integrations/webhook_detail.html",
        {"webhook": hook, "deliveries": deliveries, "new_secret": new_secret, "statuses": WebhookDelivery.Status},
    )


@login_required
@require_POST
def webhook_toggle(request, pk):
    hook = _own_webhook(request, pk)
    hook = services.webhook_update(webhook=hook, user=request.user, data={"active": not hook.active})
    if hook.active:
        messages.success(request, _("Webhook resumed: its waiting deliveries are sent within a minute."))
    else:
        messages.success(request, _("Webhook paused: new events wait until you resume it."))
    return redirect("integrations:webhook_detail", pk=hook.pk)


@login_required
@require_POST
def webhook_rotate(request, pk):
    hook = services.webhook_secret_rotate(webhook=_own_webhook(request, pk), user=request.user)
    _show_secret_once(request, hook)
    messages.success(request, _("New secret made: the old one no longer signs. Copy it now."))
    return redirect("integrations:webhook_detail", pk=hook.pk)


@login_required
@require_POST
def webhook_delete(request, pk):
    hook = _own_webhook(request, pk)
    url = hook.target_url
    services.webhook_delete(webhook=hook, user=request.user)
    messages.success(request, _("Webhook to %(url)s deleted.") % {"url": url})
    return redirect("integrations:webhooks")


@login_required
@require_POST
def webhook_redeliver(request, pk, delivery_pk):
    hook = _own_webhook(request, pk)
    try:
        delivery = selectors.webhook_delivery_get(webhook=hook, user=request.user, pk=delivery_pk)
    except WebhookDelivery.DoesNotExist:
        raise Http404 from None
    try:
        services.webhook_delivery_redeliver(delivery=delivery, user=request.user)
    except ValidationError as exc:
        for errors in exc.message_dict.values():
            for error in errors:
                messages.error(request, error)
    else:
        messages.success(request, _("Delivery queued again: its new attempt shows below."))
    return redirect("integrations:webhook_detail", pk=hook.pk)
