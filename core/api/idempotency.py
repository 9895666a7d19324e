"""``Idempotency-Key`` on POSTs: the first successful response to a key is stored
(core.models.IdempotencyRecord) and a retry with the same key and body gets it back, creating
nothing; the same key with another body is refused."""

import hashlib
import json

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from rest_framework.response import Response

from core.models import IdempotencyRecord

from .errors import error_response


def _file_digest(upload) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return f"file:{upload.name}:{upload.size}:{digest.hexdigest()}"


def request_fingerprint(request) -> str:
    """What the request asks for, to tell a retry from another request reusing the key: the JSON
    body, or the form fields and the uploaded files' contents of a multipart request."""
    data = request.data
    if hasattr(data, "lists"):  # a QueryDict (form or multipart): files count by their content
        data = {
            key: [_file_digest(v) if isinstance(v, UploadedFile) else v for v in values] for key, values in data.lists()
        }
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _replay(record) -> Response:
    response = Response(record.body, status=record.status_code)
    response["Idempotent-Replayed"] = "true"
    return response


def idempotent_response(request, make_response) -> Response:
    """Run ``make_response`` once per (user, Idempotency-Key): a retry gets the stored response."""
    key = request.headers.get("Idempotency-Key")
    if not key:
        return make_response()
    if len(key) > 200:
        return error_response(400, "validation_error", "Idempotency-Key is longer than 200 characters.")
    fingerprint = request_fingerprint(request)
    previous = IdempotencyRecord.objects.filter(user=request.user, key=key).first()
    if previous is not None:
        if previous.request_hash != fingerprint or previous.path != request.path:
            return error_response(
                422 if previous.path == request.path else 409,
                "idempotency_key_reused",
                "This Idempotency-Key was already used for a different request.",
            )
        return _replay(previous)
    try:
        with transaction.atomic():
            response = make_response()
            if 200 <= response.status_code < 300:
                IdempotencyRecord.objects.create(
                    user=request.user,
                    key=key,
                    method=request.method,
                    path=request.path,
                    request_hash=fingerprint,
                    status_code=response.status_code,
                    body=json.loads(json.dumps(response.data, default=str)),
                )
    except IntegrityError:  # the same key raced in from a parallel retry: answer with its result
        previous = IdempotencyRecord.objects.get(user=request.user, key=key)
        return _replay(previous)
    return response
