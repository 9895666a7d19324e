"""Every write to saved views. Sharing (with one's team or everyone) is for managers and
administrators; a view is changed or deleted by its owner only."""

from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.utils.translation import gettext as _

from accounts.permissions import ChangeNotAllowed, is_anonymous
from core.exceptions import ValidationError

from .models import DefaultView, SavedView, Visibility
from .selectors import NOT_SAVED, list_key_of

MAX_PAGE_SIZE = 200


def can_share(user) -> bool:
    return not is_anonymous(user) and (user.is_crm_admin or user.is_manager)


def _clean(user, *, name: str, path: str, query: str, columns, sort: str, page_size, visibility: str) -> dict:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the view a name.")})
    if len(name) > 100:
        raise ValidationError({"name": _("Write at most 100 characters.")})
    list_key = list_key_of(path or "")
    if list_key is None:
        raise ValidationError({"path": _("Views can be saved on lists and on the board only.")})
    if visibility not in Visibility.values:
        raise ValidationError({"visibility": _("Choose who sees the view.")})
    if visibility != Visibility.PRIVATE and not can_share(user):
        raise ValidationError({"visibility": _("Only managers and administrators can share views.")})
    if visibility == Visibility.TEAM and not user.team_id:
        raise ValidationError({"visibility": _("You are in no team: share with everyone or keep it private.")})
    params = QueryDict(query or "", mutable=True)
    for key in NOT_SAVED:
        params.pop(key, None)
    sort = (sort or params.get("ordering", "") or "")[:100]
    if page_size in ("", None):
        page_size = params.get("per_page") or None
    if page_size is not None:
        try:
            page_size = int(page_size)
        except (TypeError, ValueError):
            page_size = 0
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValidationError({"page_size": _("Choose from 1 to 200 rows per page.")})
    if not columns:  # the columns the list was showing (its ``?columns=``), as sort and page size
        columns = [c for value in params.getlist("columns") for c in value.split(",") if c.strip()]
    params.pop("columns", None)
    if not isinstance(columns, list) or not all(isinstance(c, str) and len(c) <= 100 for c in columns):
        raise ValidationError({"columns": _("Columns are a list of column names.")})
    return {
        "name": name,
        "list_key": list_key,
        "path": path[:200],
        "query": params.urlencode(),
        "columns": columns[:100],
        "sort": sort,
        "page_size": page_size,
        "visibility": visibility,
        "team_id": user.team_id if visibility == Visibility.TEAM else None,
    }


@transaction.atomic
def saved_view_create(
    *,
    user,
    name: str,
    path: str,
    query: str = "",
    columns=None,
    sort: str = "",
    page_size=None,
    visibility: str = Visibility.PRIVATE,
    make_default: bool = False,
) -> SavedView:
    """Save the page at ``path`` with ``query`` (its filters) under ``name``; one name per list and
    owner (saving again under the same name replaces that view's filters)."""
    data = _clean(
        user,
        name=name,
        path=path,
        query=query,
        columns=columns if columns is not None else [],
        sort=sort,
        page_size=page_size,
        visibility=visibility,
    )
    try:
        with transaction.atomic():
            view, _created = SavedView.objects.update_or_create(
                owner=user, list_key=data["list_key"], name=data["name"], defaults=data
            )
    except IntegrityError:  # saved meanwhile under the same name
        raise ValidationError({"name": _("You already have a view with this name.")}) from None
    if make_default:
        saved_view_default_set(user=user, view=view)
    return view


@transaction.atomic
def saved_view_delete(*, user, view: SavedView) -> None:
    if view.owner_id != user.pk:
        raise ChangeNotAllowed(_("Only the owner of a view can delete it."))
    view.delete()


@transaction.atomic
def saved_view_default_set(*, user, view: SavedView | None, list_key: str | None = None) -> None:
    """Make ``view`` (one ``user`` may open) the view their list opens with; None: no default."""
    if view is None:
        DefaultView.objects.filter(user=user, list_key=list_key).delete()
        return
    if not SavedView.objects.visible_to(user).filter(pk=view.pk).exists():
        raise ChangeNotAllowed()
    DefaultView.objects.update_or_create(user=user, list_key=view.list_key, defaults={"view": view})
