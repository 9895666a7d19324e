"""The signed, one-time token a hosted form (page or iframe) carries: when it was shown, and a
random nonce. The time gives the minimum fill time; the nonce, used twice, is a replay."""

import secrets
import time

from django.core import signing

SALT = "webforms.token"
MAX_AGE = 24 * 3600  # a form left open for a day must be reloaded


def token_make(form_id: int) -> str:
    return signing.dumps({"f": form_id, "t": time.time(), "n": secrets.token_urlsafe(16)}, salt=SALT)


def token_read(value: str, form_id: int) -> dict | None:
    """``{"t": shown at, "n": nonce}`` of a valid token for this form, else None."""
    if not value:
        return None
    try:
        data = signing.loads(value, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("f") != form_id:
        return None
    return data
