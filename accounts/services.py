"""Writes to users and teams."""

from django.conf import settings
from django.db import transaction

from .models import User


@transaction.atomic
def user_set_language(*, user: User, language: str) -> User:
    """Save the language the user chose (``""`` follows the browser again)."""
    if language and language not in dict(settings.LANGUAGES):
        raise ValueError(f"unknown language {language!r}")
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
    return user
