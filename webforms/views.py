"""Pages of the web forms: the manager's side (build, publish, review) and the visitor's side
(the hosted form at /f/<slug>/, the plain HTML post and the JSON endpoint)."""

import json
import time
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.permissions import ChangeNotAllowed
from core.exceptions import DomainError, ValidationError
from core.net import client_ip
from core.views import form_add_errors
from pipeline.models import Pipeline

from . import selectors, services, spam, tokens
from .forms import HONEYPOT, UTM_KEYS, SubmissionForm, WebFormForm
from .models import Submission, WebForm

# The largest body a visitor may send (a message is at most a few kB; 100 kB is an attack).
MAX_BODY = 64 * 1024


def _manager_only(request) -> None:
    if not (request.user.is_crm_admin or request.user.is_manager):
        raise PermissionDenied(_("Only managers and administrators manage web forms."))


def _get_form(request, pk) -> WebForm:
    try:
        return selectors.webform_get(user=request.user, pk=pk)
    except WebForm.DoesNotExist:
        raise Http404 from None


# --- The manager's pages ---------------------------------------------------------------------------


@login_required
def webform_list(request):
    _manager_only(request)
    review = selectors.submission_list(user=request.user, status=Submission.Status.REVIEW).count()
    return render(
        request, "webforms/list.html", {"forms": selectors.webform_list(user=request.user), "review_count": review}
    )


def _edit(request, webform: WebForm, template_title: str):
    form = WebFormForm(request.POST or None, instance=webform, user=request.user)
    if request.method == "POST" and form.is_valid():
        obj = form.save(commit=False)
        obj.fields = form.cleaned_data["fields"]
        try:
            saved = services.webform_save(user=request.user, webform=obj)
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            messages.success(request, _("Web form “%(name)s” saved.") % {"name": saved.name})
            return redirect(saved)
    return render(request, "webforms/edit.html", {"form": form, "webform": webform, "title": template_title})


@login_required
def webform_create(request):
    _manager_only(request)
    initial = WebForm(pipeline=Pipeline.objects.default(), assignee=request.user, owner=request.user)
    return _edit(request, initial, _("New web form"))


@login_required
def webform_edit(request, pk):
    _manager_only(request)
    return _edit(request, _get_form(request, pk), _("Edit web form"))


def _snippets(request, webform: WebForm) -> dict:
    base = f"{request.scheme}://{request.get_host()}"
    page = base + reverse("webforms_public:form", args=[webform.slug])
    fields = SubmissionForm(webform=webform)
    return {
        "page_url": page,
        "iframe": f'<iframe src="{page}?embed=1" title="{webform.name}" style="width:100%;min-height:820px;border:0" '
        f'loading="lazy"></iframe>',
        "html": _html_snippet(page, fields),
        "json_url": base + reverse("webforms_public:submit_json", args=[webform.slug]),
    }


def _html_snippet(action: str, form: SubmissionForm) -> str:
    """A plain <form> a web designer can style; it posts to the hosted page's address."""
    lines = [f'<form method="post" action="{escape(action)}" accept-charset="utf-8">']
    for name, field in form.fields.items():
        if name in ("token", "page_url", *UTM_KEYS):
            continue
        if name == HONEYPOT:
            lines.append(
                f'  <div style="position:absolute;left:-5000px" aria-hidden="true">'
                f'<input type="text" name="{HONEYPOT}" tabindex="-1" autocomplete="off"></div>'
            )
            continue
        required = " required" if field.required else ""
        label = escape(str(field.label))
        if name == "consent":
            lines.append(f'  <label><input type="checkbox" name="consent" value="on"{required}> {label}</label>')
        elif name == "message":
            attrs = f'name="message" maxlength="{field.max_length}"{required}'
            lines.append(f"  <label>{label}<textarea {attrs}></textarea></label>")
        else:
            kind = {"email": "email", "phone": "tel"}.get(name, "text")
            attrs = f'type="{kind}" name="{name}" maxlength="{field.max_length}"{required}'
            lines.append(f"  <label>{label}<input {attrs}></label>")
    for key in UTM_KEYS:
        lines.append(f'  <input type="hidden" name="{key}" value="">')
    lines.append(f'  <button type="submit">{escape(_("Send"))}</button>')
    lines.append("</form>")
    return "\n".join(lines)


@login_required
def webform_detail(request, pk):
    _manager_only(request)
    webform = _get_form(request, pk)
    submissions = selectors.submission_list(user=request.user, form=webform.pk)[:50]
    return render(
        request,
        "webforms/detail.html",
        {"webform": webform, "submissions": submissions, **_snippets(request, webform)},
    )


@login_required
def review_queue(request):
    _manager_only(request)
    rows = selectors.submission_list(user=request.user, status=Submission.Status.REVIEW)[:200]
    return render(request, "webforms/review.html", {"submissions": rows})


def _get_submission(request, pk) -> Submission:
    try:
        return selectors.submission_get(user=request.user, pk=pk)
    except Submission.DoesNotExist:
        raise Http404 from None


@login_required
def submission_detail(request, pk):
    _manager_only(request)
    return render(request, "webforms/submission.html", {"submission": _get_submission(request, pk)})


@login_required
@require_POST
def submission_accept(request, pk):
    _manager_only(request)
    submission = _get_submission(request, pk)
    try:
        services.submission_accept(user=request.user, submission=submission)
    except (ValidationError, DomainError, ChangeNotAllowed) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(getattr(exc, "message", exc))])))
    else:
        messages.success(request, _("Accepted: the deal is on the board."))
    return redirect("webforms:review")


@login_required
@require_POST
def submission_reject(request, pk):
    _manager_only(request)
    submission = _get_submission(request, pk)
    try:
        services.submission_reject(user=request.user, submission=submission, reason=request.POST.get("reason", ""))
    except (ValidationError, DomainError, ChangeNotAllowed) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(getattr(exc, "message", exc))])))
    else:
        messages.success(request, _("Rejected; it stays listed with its reason."))
    return redirect("webforms:review")


# --- The visitor's side ----------------------------------------------------------------------------


def _origin_of(url: str) -> str:
    parts = urlsplit(url or "")
    if not parts.scheme or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}".lower()


def _request_origin(request) -> str:
    return (request.headers.get("Origin") or "").strip().rstrip("/").lower() or _origin_of(
        request.headers.get("Referer", "")
    )


def _origin_allowed(request, webform: WebForm) -> bool:
    """A post from the CRM itself (the hosted page, the iframe), from an allowed site, or from a
    client that names no origin at all (no browser sends a cross-site form without one)."""
    origin = _request_origin(request)
    if not origin:
        return True
    own = f"{request.scheme}://{request.get_host()}".lower()
    return origin == own or origin in webform.origins()


def _language(request, webform: WebForm) -> str:
    return webform.language or translation.get_language_from_request(request)


def _frame_policy(response, webform: WebForm):
    """The hosted form may be framed by the allowed sites only (CSP frame-ancestors)."""
    response.xframe_options_exempt = True
    form_action = ["'self'"]
    if webform.redirect_url:
        form_action.append(_origin_of(webform.redirect_url))
    response._csp_replace = {"frame-ancestors": ["'self'", *webform.origins()], "form-action": form_action}
    return response


def _visit(request, form: SubmissionForm, token: dict | None, language: str) -> services.Visit:
    data = form.cleaned_data
    return services.Visit(
        page_url=data.get("page_url") or request.headers.get("Referer", ""),
        referrer=request.headers.get("Referer", ""),
        utm={key.removeprefix("utm_"): data.get(key, "") for key in UTM_KEYS},
        ip=client_ip(request),
        user_agent=request.headers.get("User-Agent", ""),
        language=language,
        nonce=token["n"] if token else None,
        consent_given=bool(data.get("consent")),
    )


def _suspicions(request, webform: WebForm, form: SubmissionForm, token: dict | None) -> list[str]:
    data = form.cleaned_data
    found = []
    if data.get(HONEYPOT):
        found.append("honeypot")
    if data.get("token") and token is None:
        found.append("bad_token")
    if token is not None and time.time() - float(token.get("t", 0)) < webform.min_fill_seconds:
        found.append("too_fast")
    if spam.over_rate_limit(form_id=webform.pk, ip=client_ip(request)):
        found.append("rate_limit")
    if webform.check_mail_domain and data.get("email") and not spam.mail_domain_exists(data["email"]):
        found.append("mail_domain")
    return found


def _process(request, webform: WebForm, data, language: str):
    """Validate and receive one submission: (submission, None) or (None, form with errors)."""
    form = SubmissionForm(data, webform=webform)
    if not form.is_valid():
        return None, form
    token = tokens.token_read(form.cleaned_data.get("token", ""), webform.pk)
    suspicions = _suspicions(request, webform, form, token)
    try:
        submission = services.submission_receive(
            webform=webform,
            fields=form.visitor_fields(),
            visit=_visit(request, form, token, language),
            suspicions=suspicions,
        )
    except ValidationError as exc:
        form_add_errors(form, exc)
        return None, form
    except services.SubmissionReplayed as exc:
        form.add_error(None, str(exc.message))
        return None, form
    return submission, form


def _public_form(webform: WebForm, data=None) -> SubmissionForm:
    form = SubmissionForm(data, webform=webform, initial={"token": tokens.token_make(webform.pk)})
    return form


def _page(request, webform, form, *, status=200, done=False):
    context = {"webform": webform, "form": form, "done": done, "embed": request.GET.get("embed") == "1"}
    if form is not None and not done:
        context["fields"] = form.visible_fields_for_page()
        context["token"] = tokens.token_make(webform.pk)
        source = form.data if form.is_bound else request.GET
        context["utm"] = {key: str(source.get(key, ""))[:200] for key in UTM_KEYS}
        # The page the visitor is on: the embedding page for an iframe, else this one.
        page_url = form.data.get("page_url", "") if form.is_bound else request.headers.get("Referer", "")
        context["page_url"] = str(page_url or request.build_absolute_uri())[:2000]
    return _frame_policy(render(request, "webforms/public_form.html", context, status=status), webform)


@csrf_exempt  # a public form posted from other sites: no session, guarded by origin, token and spam checks
def form_public(request, slug):
    try:
        webform = selectors.webform_public_get(slug=slug)
    except WebForm.DoesNotExist:
        raise Http404 from None
    with translation.override(_language(request, webform)):
        if request.method == "GET":
            return _page(request, webform, _public_form(webform))
        if request.method != "POST":
            return HttpResponse(status=405, headers={"Allow": "GET, POST"})
        if not _origin_allowed(request, webform):
            return _refused(request, webform)
        if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY:
            return _frame_policy(
                render(request, "webforms/public_error.html", {"message": _("What you sent is too long.")}, status=413),
                webform,
            )
        content_type = request.content_type or ""
        if content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
            message = _("Send the form from its page.")
            return _frame_policy(
                render(request, "webforms/public_error.html", {"message": message}, status=400), webform
            )
        submission, form = _process(request, webform, request.POST, translation.get_language())
        if submission is None:
            return _page(request, webform, form, status=400)
        if webform.redirect_url:
            return HttpResponseRedirect(webform.redirect_url, status=303)
        return _page(request, webform, form, done=True)


def _refused(request, webform):
    message = _("This form cannot be sent from this site.")
    return _frame_policy(render(request, "webforms/public_error.html", {"message": message}, status=403), webform)


def _cors(response, request, webform: WebForm):
    origin = (request.headers.get("Origin") or "").rstrip("/").lower()
    if origin and origin in webform.origins():
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Access-Control-Max-Age"] = "600"
        response["Vary"] = "Origin"
    return response


def _json_error(request, webform, status: int, code: str, message: str, fields: dict | None = None):
    body = {"error": {"code": code, "message": message, "fields": fields or {}}}
    return _cors(JsonResponse(body, status=status), request, webform)


@csrf_exempt
def form_submit_json(request, slug):
    """POST a JSON object of the form's fields (``fetch`` from an allowed site). CORS headers are
    given to allowed origins only; any other origin is refused."""
    try:
        webform = selectors.webform_public_get(slug=slug)
    except WebForm.DoesNotExist:
        raise Http404 from None
    with translation.override(_language(request, webform)):
        if request.method == "OPTIONS":
            return _cors(HttpResponse(status=204), request, webform)
        if request.method != "POST":
            return _json_error(request, webform, 405, "method_not_allowed", _("Send the form with POST."))
        if not _origin_allowed(request, webform):
            return _json_error(request, webform, 403, "origin", _("This form cannot be sent from this site."))
        if len(request.body) > MAX_BODY:
            return _json_error(request, webform, 413, "too_large", _("What you sent is too long."))
        try:
            data = json.loads(request.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            data = None
        scalars = isinstance(data, dict) and all(
            isinstance(v, (str, bool, int, float)) or v is None for v in data.values()
        )
        if not scalars:
            return _json_error(request, webform, 400, "invalid", _("Send a JSON object of the form's fields."))
        data = {k: ("on" if v is True else "" if v in (None, False) else str(v)) for k, v in data.items()}
        submission, form = _process(request, webform, data, translation.get_language())
        if submission is None:
            fields = {name: [str(e) for e in errors] for name, errors in form.errors.items() if name != "__all__"}
            general = form.non_field_errors()
            message = " ".join(general) if general else _("Check the fields marked.")
            return _json_error(request, webform, 400, "invalid", message, fields)
        body = {"ok": True, "message": webform.thank_you_text or _("Thank you! We will get back to you soon.")}
        if webform.redirect_url:
            body["redirect"] = webform.redirect_url
        return _cors(JsonResponse(body, status=201), request, webform)
