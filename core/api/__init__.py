"""The REST API's shared plumbing, which every app's ``api/`` builds on: viewsets over services and
selectors with ETag / If-Match (base.py), Idempotency-Key (idempotency.py), the one error shape
(errors.py), pagination, the JSON parser, visibility-checked related fields, and the archive /
restore / purge actions (archive.py). Feature code (API tokens, webhooks) lives in its app.
Nothing is imported here: DRF loads parsers.py and errors.py from REST_FRAMEWORK while
rest_framework itself is still importing."""
