from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from .models import ApiToken


class TokenOrUserRateThrottle(UserRateThrottle):
    """Each token has its own budget; a browser session shares the user's."""

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            return self.cache_format % {"scope": self.scope, "ident": f"token-{request.auth.pk}"}
        return super().get_cache_key(request, view)


__all__ = ["AnonRateThrottle", "TokenOrUserRateThrottle"]
