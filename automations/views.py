"""The rules pages: list with last runs, create / edit (with the ordered actions), switch on or
off, and a preview of the deals of the last 30 days a rule would have fired for. Managers (their
teams' rules) and administrators only."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.exceptions import ValidationError
from core.views import form_add_errors

from . import selectors, services
from .forms import RuleActionFormSet, RuleForm
from .models import Rule


def _manager_only(request) -> None:
    if not (request.user.is_crm_admin or request.user.is_manager):
        raise PermissionDenied(_("Only managers and administrators manage automation rules."))


def _get_rule(request, pk) -> Rule:
    _manager_only(request)
    try:
        return selectors.rule_get(user=request.user, pk=pk)
    except Rule.DoesNotExist:
        raise Http404 from None


@login_required
def rule_list(request):
    _manager_only(request)
    return render(request, "automations/list.html", {"rules": selectors.rule_list(user=request.user)})


def _edit(request, rule: Rule | None, title: str):
    user = request.user
    initial = {} if rule else {"team": user.team_id if user.team_id else None}
    form = RuleForm(request.POST or None, instance=rule, user=user, initial=initial)
    formset = RuleActionFormSet(request.POST or None, instance=rule or Rule(), form_kwargs={"user": user})
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        actions = [
            f.save(commit=False)
            for f in formset.forms
            if f.cleaned_data.get("kind") and not f.cleaned_data.get("DELETE")
        ]
        fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            saved = services.rule_save(user=user, rule=rule, actions=actions, **fields)
        except ValidationError as exc:
            if hasattr(exc, "error_dict") and set(exc.error_dict) - set(form.fields):
                form.add_error(None, exc)
            else:
                form_add_errors(form, exc)
        else:
            messages.success(request, _("Rule “%(name)s” saved.") % {"name": saved.name})
            return redirect("automations:list")
    runs = selectors.rule_run_list(rule=rule) if rule else []
    return render(
        request, "automations/edit.html", {"form": form, "formset": formset, "rule": rule, "title": title, "runs": runs}
    )


@login_required
def rule_create(request):
    _manager_only(request)
    return _edit(request, None, _("New automation rule"))


@login_required
def rule_edit(request, pk):
    return _edit(request, _get_rule(request, pk), _("Edit automation rule"))


@login_required
@require_POST
def rule_toggle(request, pk):
    rule = _get_rule(request, pk)
    services.rule_enable(user=request.user, rule=rule, enabled=not rule.enabled)
    if rule.enabled:
        messages.success(request, _("Rule “%(name)s” switched on.") % {"name": rule.name})
    else:
        messages.success(request, _("Rule “%(name)s” switched off.") % {"name": rule.name})
    return redirect("automations:list")


@login_required
def rule_preview(request, pk):
    rule = _get_rule(request, pk)
    deals = selectors.rule_preview(user=request.user, rule=rule)
    return render(request, "automations/preview.html", {"rule": rule, "deals": deals, "days": selectors.PREVIEW_DAYS})
