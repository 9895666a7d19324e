"""The authentication backend: Django's ModelBackend, with the logged-in user read from the cache.

Every request of a logged-in user loads the user (``django.contrib.auth.get_user``); with the
session in the cache too, that row was the one query every page and API call paid whatever it
showed. The user is cached for a minute under its id and dropped from the cache whenever it is
saved or deleted (``accounts.apps``: a password change, a deactivation, a new role or team take
effect on the next request, on every process that shares the cache). A write that bypasses
``save()`` (``QuerySet.update``) is seen within ``USER_CACHE_SECONDS``.
"""

from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache

USER_CACHE_SECONDS = 60
# Part of every key: the test suite changes it for each test (ids are reused after a rollback).
namespace = "auth-user"


def user_cache_key(user_id) -> str:
    return f"{namespace}:{user_id}"


def user_cache_forget(user_id) -> None:
    cache.delete(user_cache_key(user_id))


class CachedModelBackend(ModelBackend):
    def get_user(self, user_id):
        user = cache.get(user_cache_key(user_id))
        if user is None:
            user = super().get_user(user_id)
            if user is not None:
                cache.set(user_cache_key(user_id), user, USER_CACHE_SECONDS)
            return user
        return user if self.user_can_authenticate(user) else None
