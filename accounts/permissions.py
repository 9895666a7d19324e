"""The building blocks of the one visibility policy. Each app's ``visible_to`` / ``editable_by``
querysets are written in terms of these, so the rule lives here and nowhere else.

The rule:

* an **admin** (role admin, or a superuser) sees and edits everything;
* a **manager** sees and edits every record owned by a member of a team they belong to or manage;
* a **rep** sees every record owned by a member of their team, and edits the ones they own.

A user without a team sees only their own records. Organizations and contacts are also visible
to a user who can see one of their opportunities (see ``contacts/querysets.py``).

Deleting a deal, an organization or a contact archives it (whoever may edit it); **restoring** an
archived one is for managers and admins (on records they may edit); **purging** it for good is for
admins only, after confirmation (``can_restore`` / ``can_purge``).

**Owners** one may give a record to (``assignable_owners``): a rep, only themselves; a manager,
themselves and the active members of their teams; an admin, any active user.

Services check the caller themselves (``lock_for_change``, ``owner_check``), so every face — page,
API, import, board, quote acceptance — gets the same answer. There is no "no user" bypass: a
caller without a user (a task, a shell command) acts as a named user, normally an administrator
(``imports.management.acting_user``).
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from core.exceptions import ValidationError


class ChangeNotAllowed(PermissionDenied):
    """A service refused: the caller may not change this record (or the record a change reaches,
    such as a quote's deal). The API answers 403 with the message; pages answer as their own
    convention says (404 for edit pages of records one may not change, a message for actions)."""

    default_message = gettext_lazy("You may see this record but not change it.")

    def __init__(self, message=None):
        self.message = message or self.default_message
        super().__init__(str(self.message))


def team_ids(user) -> frozenset[int]:
    """The teams whose records ``user`` sees: their own, plus the ones they manage. Cached per user."""
    cached = getattr(user, "_crm_team_ids", None)
    if cached is None:
        ids = set(user.managed_teams.values_list("id", flat=True))
        if user.team_id:
            ids.add(user.team_id)
        cached = frozenset(ids)
        user._crm_team_ids = cached
    return cached


def owned_by_visible_q(user, owner_field: str = "owner") -> Q:
    """Records whose owner is ``user`` or a member of one of ``user``'s teams."""
    q = Q(**{f"{owner_field}_id": user.pk})
    teams = team_ids(user)
    if teams:
        q |= Q(**{f"{owner_field}__team_id__in": teams})
    return q


def owned_by_editable_q(user, owner_field: str = "owner") -> Q:
    """Records ``user`` may change: their own, or (managers) their teams' records."""
    if user.is_manager:
        return owned_by_visible_q(user, owner_field)
    return Q(**{f"{owner_field}_id": user.pk})


def sees_everything(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.is_crm_admin)


def is_anonymous(user) -> bool:
    return not (user and user.is_authenticated and user.is_active)


def can_edit(user, obj) -> bool:
    """Whether ``user`` may change ``obj``, by the same ``editable_by`` queryset every list uses."""
    return type(obj).objects.editable_by(user).filter(pk=obj.pk).exists()


def can_restore(user, obj) -> bool:
    """Whether ``user`` may bring an archived record back: a manager or an admin who may edit it."""
    return not is_anonymous(user) and (user.is_crm_admin or user.is_manager) and can_edit(user, obj)


def can_purge(user, obj=None) -> bool:
    """Whether ``user`` may delete a record for good: admins only."""
    return sees_everything(user)


def lock_for_change(model, pk, *, user, message=None):
    """Lock row ``pk`` of ``model`` (``SELECT … FOR UPDATE``) and return it, if ``user`` may change it.

    Raises ``model.DoesNotExist`` for a missing row and :class:`ChangeNotAllowed` for one the user
    may not change. On the happy path this is the one query the lock costs anyway."""
    editable = model.objects.editable_by(user)
    try:
        return editable.select_for_update(of=("self",)).get(pk=pk)
    except model.DoesNotExist:
        pass
    # Missing, not the caller's, or (PostgreSQL) its owner changed while we waited for the lock and
    # the re-check of the joined owner row hid it: decide again, under a plain lock of the row alone.
    locked = model.objects.select_for_update().get(pk=pk)
    if not editable.filter(pk=pk).exists():
        raise ChangeNotAllowed(message)
    return locked


def assignable_owners(user):
    """The users ``user`` may make the owner of a record: a rep, only themselves; a manager,
    themselves and the active members of the teams they belong to or manage; an admin (or a
    superuser), any active user. Anonymous and inactive users, nobody."""

    users = User.objects.filter(is_active=True)
    if is_anonymous(user):
        return users.none()
    if sees_everything(user):
        return users
    if user.is_manager:
        teams = team_ids(user)
        return users.filter(Q(pk=user.pk) | Q(team_id__in=teams)) if teams else users.filter(pk=user.pk)
    return users.filter(pk=user.pk)


def owner_choices(user, current=None):
    """The owner drop-down of a form: the users ``user`` may assign, plus the record's ``current``
    owner (keeping an owner unchanged is always allowed)."""

    users = assignable_owners(user)
    if current is not None:
        users = users | User.objects.filter(pk=current)
    return users.distinct()


# The API schema's description of every ``owner`` field.
OWNER_HELP = gettext_lazy(
    "Left out when creating: you. Otherwise a user you may assign: a sales rep, only themselves; a manager, "
    "themselves and the active members of their teams; an admin, any active user (else 400 naming owner)."
)


def can_assign_owner(user, owner) -> bool:
    """Whether ``user`` may give a record to ``owner`` (see :func:`assignable_owners`)."""
    if owner is None or is_anonymous(user):
        return False
    if owner.pk == user.pk:  # the usual case, without a query
        return True
    return assignable_owners(user).filter(pk=owner.pk).exists()


def owner_check(user, owner, *, field: str = "owner") -> None:
    """Refuse (a ValidationError naming ``field``: a 400 in the API, a form error on pages) to give
    a record to a user ``user`` may not assign. Checked before anything is written."""

    if can_assign_owner(user, owner):
        return
    if owner is None:
        message = _("Choose an owner.")
    elif not owner.is_active:
        message = _("%(name)s is no longer active: choose another owner.")
    elif not is_anonymous(user) and user.is_manager:
        message = _("You cannot give records to %(name)s: choose yourself or a member of your teams.")
    else:
        message = _("You cannot give records to %(name)s: a sales rep can only choose themselves.")
    raise ValidationError({field: message % {"name": owner}})


def owner_change_check(user, record, data: dict) -> None:
    """Refuse an ``owner`` in ``data`` (the changes to ``record``) that ``user`` may not assign;
    keeping the record's current owner is always allowed (see :func:`owner_choices`)."""
    if "owner" in data and data["owner"] != record.owner:
        owner_check(user, data["owner"])
