from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from activities.models import Activity
from core.views import lookup_response
from opportunities.selectors import opportunity_closing_in_month, opportunity_home_summary, opportunity_list

from . import selectors
from .forms import ProfileForm
from .selectors import team_home
from .services import user_set_language


@login_required
def home(request):
    """The start page: what needs the user's attention today. A manager sees their team first: the
    open pipeline rep by rep, overdue activities by rep, the team's deals closing this month.
    Counts and sums are over every row, never over the few shown."""
    user, today = request.user, timezone.localdate()
    mine = opportunity_list(user=user).open().filter(owner=user)
    context = {
        "summary": opportunity_home_summary(user=user, owner=user, today=today),
        "closing_this_month": opportunity_closing_in_month(user=user, owner=user, today=today),
        "overdue_deals": mine.filter(expected_close_date__lt=today).order_by("expected_close_date", "pk")[:10],
        "activities": Activity.objects.filter(owner=user, done=False)
        .select_related("opportunity", "contact", "organization")
        .order_by("due_at")[:10],
        "recent": opportunity_list(user=user).order_by("-updated_at")[:10],
        "today": today,
    }
    if user.is_manager:
        context.update(team_home(user=user, today=today))
    return render(request, "home.html", context)


@login_required
def profile(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Profile saved."))
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form})


@require_POST
def language_set(request):
    """The navigation bar's language switcher: Django's ``set_language`` (cookie, safe redirect) and,
    for a logged-in user, the choice saved on the profile so it follows them to any browser."""
    response = set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        user_set_language(user=request.user, language=language)
    return response


@login_required
def owner_lookup(request):
    """Users for the owner autocomplete (``?q=``): only those the reader may assign."""
    return lookup_response(
        request,
        lambda text: selectors.owner_search(user=request.user, text=text),
        label=lambda user: user.get_full_name() or user.username,
        detail=lambda user: user.email,
    )
