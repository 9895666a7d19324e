from django.db import models

from accounts.permissions import is_anonymous, owned_by_visible_q, sees_everything


class WebFormQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Forms are managed by managers (their teams' forms) and admins (all); reps see none."""
        if sees_everything(user):
            return self
        if is_anonymous(user) or not user.is_manager:
            return self.none()
        return self.filter(owned_by_visible_q(user))

    def editable_by(self, user):
        return self.visible_to(user)
