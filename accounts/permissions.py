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
"""

from django.db.models import Q


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
