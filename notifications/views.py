"""The bell's JSON (polled by static/js/notifications.js), the notifications page, mark read."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import selectors, services
from .forms import PreferencesForm
from .models import Notification


@login_required
def unread(request):
    """``{"unread": N, "latest": [...]}``: the bell's count and the five newest unread."""
    latest = selectors.notification_list(user=request.user).filter(read_at__isnull=True)[:5]
    return JsonResponse(
        {
            "unread": selectors.notification_unread_count(user=request.user),
            "latest": [{"id": n.pk, "text": n.text, "url": n.url} for n in latest],
        },
        headers={"Cache-Control": "no-store"},
    )


@login_required
def notification_list(request):
    page = Paginator(selectors.notification_list(user=request.user), 50).get_page(request.GET.get("page"))
    return render(request, "notifications/list.html", {"page": page, "objects": page.object_list})


@login_required
@require_POST
def mark_read(request, pk: int):
    """Mark one read and follow its link (the link is ours, checked anyway)."""
    get_object_or_404(Notification, pk=pk, user=request.user)  # another user's: not found
    services.notification_mark_read(user=request.user, pk=pk)
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("notifications:list")


@login_required
@require_POST
def mark_all_read(request):
    services.notification_mark_read(user=request.user)
    return redirect("notifications:list")


@login_required
def preferences(request):
    """Per kind: in the CRM, by e-mail, or both; and the hour of the daily digest."""
    from .models import DigestSetting, NotificationPreference

    channels = dict(NotificationPreference.objects.filter(user=request.user).values_list("kind", "channel"))
    digest = DigestSetting.objects.filter(user=request.user).values_list("hour", flat=True).first()
    form = PreferencesForm(request.POST or None, channels=channels, initial={"digest_hour": digest})
    if request.method == "POST" and form.is_valid():
        services.notification_preferences_set(
            user=request.user, channels=form.channels(), digest_hour=form.cleaned_data["digest_hour"]
        )
        messages.success(request, _("Preferences saved."))
        return redirect("notifications:preferences")
    return render(request, "notifications/preferences.html", {"form": form})
