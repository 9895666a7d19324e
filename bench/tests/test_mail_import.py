"""The e-mail import benchmark (``python -m bench.mail_import``) works, at a small scale, against a
real Dovecot: every message is imported or skipped (a fifth come from nobody in the CRM), none is
set aside, and a second poll imports nothing."""

import io

import pytest

from bench.mail_import import mail_import
from mail.tests.conftest import dovecot  # noqa: F401 (the fixture)


@pytest.mark.django_db
def test_mail_import_at_small_scale(crm_admin, pipeline, dovecot):  # noqa: F811
    result = mail_import(admin=crm_admin, server=dovecot, count=25, out=io.StringIO())
    assert (result["imported"], result["not_for_the_crm"], result["second_poll_imported"]) == (20, 5, 0)
