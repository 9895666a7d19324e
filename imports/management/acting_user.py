"""Who an import run from the shell acts as (history rows and audit entries name them)."""

from django.core.management.base import CommandError
from django.db.models import Q

from accounts.models import User


def acting_user(username: str | None) -> User:
    """``--user USERNAME``, or else the first active administrator."""
    if username:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        return user
    user = User.objects.filter(Q(is_superuser=True) | Q(role=User.Role.ADMIN), is_active=True).order_by("pk").first()
    if user is None:
        raise CommandError("No administrator yet: create one (createsuperuser) or pass --user.")
    return user
