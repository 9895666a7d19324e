from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from core.exceptions import ValidationError
from integrations.services import api_token_create


class Command(BaseCommand):
    help = "Create an API token for a user and print it (it is shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", required=True, help="What the token is for, e.g. 'ERP sync'.")
        parser.add_argument("--read-only", action="store_true", help="The token may only read.")

    def handle(self, *args, username, name, read_only, **options):
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user called {username!r}.") from None
        try:
            token, raw = api_token_create(user=user, name=name, read_only=read_only)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stderr.write(f"Token {token.name!r} for {username} ({'read-only' if read_only else 'read-write'}):")
        self.stdout.write(raw)
