"""Mailbox passwords at rest: Fernet (AES-128-CBC + HMAC-SHA256) with a key from the environment.

``CRM_MAIL_KEY`` is a Fernet key (``python -c "from cryptography.fernet import Fernet;
print(Fernet.generate_key().decode())"``). Left unset, a key is derived from ``SECRET_KEY`` so a laptop
works out of the box; rotating ``SECRET_KEY`` then makes stored passwords unreadable (the mailbox says
so and asks for the password again)."""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    key = getattr(settings, "CRM_MAIL_KEY", "") or ""
    if not key:
        digest = hashlib.sha256(b"crm-mail-password:" + settings.SECRET_KEY.encode()).digest()
        key = base64.urlsafe_b64encode(digest).decode()
    return Fernet(key.encode() if isinstance(key, str) else key)


def secret_encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def secret_decrypt(token: str) -> str | None:
    """The plain text, or None when the key changed (the password must be entered again)."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        return None
