import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contacts.tests.factories import ContactFactory, OrganizationFactory
from documents.models import Document
from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def upload(client, name, content, **parent):
    return client.post(reverse("documents:upload"), {"file": SimpleUploadedFile(name, content), **parent}, follow=True)


def messages_of(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


@pytest.mark.parametrize(
    ("name", "content"),
    [("offerta è & <1>.pdf", PDF), ("logo.png", PNG), ("contratto.docx", _docx()), ("note.txt", "Caffè ☕".encode())],
)
def test_allowed_files_upload_and_download_safely(client, rep, name, content, media):
    opp = OpportunityFactory(owner=rep)
    client.force_login(rep)
    response = upload(client, name, content, opportunity=opp.pk)
    assert "uploaded" in messages_of(response)
    document = Document.objects.get()
    assert document.original_name == name and document.opportunity == opp
    assert name not in document.file.name  # stored under a random name
    assert (media / document.file.name).read_bytes() == content

    download = client.get(reverse("documents:download", args=[document.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == content
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "html" not in download["Content-Type"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("page.html", b"<html><script>alert(1)</script></html>", "not accepted"),
        ("image.svg", b"<svg onload=alert(1)></svg>", "not accepted"),
        ("setup.exe", b"MZ\x90\x00", "not accepted"),
        ("fake.pdf", b"<html><script>alert(1)</script>", "not a valid PDF"),
        ("fake.png", PDF, "not a valid PNG"),
        ("fake.docx", b"PK\x03\x04garbage", "not a valid DOCX"),
        ("sneaky.txt", b"<!DOCTYPE html><script>alert(1)</script>", "not a valid TXT"),
        ("noextension", PDF, "not accepted"),
        ("empty.pdf", b"", "empty"),
    ],
)
def test_refused_files_say_why(client, rep, name, content, message):
    org = OrganizationFactory(owner=rep)
    client.force_login(rep)
    response = upload(client, name, content, organization=org.pk)
    assert message in messages_of(response)
    assert not Document.objects.exists()


def test_too_large_file_is_refused_with_the_limit(client, rep, settings):
    settings.CRM_UPLOAD_MAX_BYTES = 1024
    contact = ContactFactory(owner=rep)
    client.force_login(rep)
    response = upload(client, "big.pdf", PDF + b"0" * 2000, contact=contact.pk)
    assert "the limit is 1.0\xa0KB" in messages_of(response)
    assert not Document.objects.exists()


def test_only_people_who_see_the_parent_can_upload_download_or_delete(client, rep, teammate, other_rep):
    opp = OpportunityFactory(owner=rep)
    client.force_login(rep)
    upload(client, "a.pdf", PDF, opportunity=opp.pk)
    document = Document.objects.get()

    client.force_login(other_rep)
    assert client.get(reverse("documents:download", args=[document.pk])).status_code == 404
    assert client.post(reverse("documents:delete", args=[document.pk])).status_code == 404
    assert upload(client, "b.pdf", PDF, opportunity=opp.pk).status_code == 404
    assert Document.objects.count() == 1

    client.force_login(teammate)  # sees the deal, may not change it
    assert client.get(reverse("documents:download", args=[document.pk])).status_code == 200
    assert client.post(reverse("documents:delete", args=[document.pk])).status_code == 404

    client.force_login(rep)
    client.post(reverse("documents:delete", args=[document.pk]))
    assert not Document.objects.exists()


def test_documents_show_on_the_deal_page(client, rep):
    opp = OpportunityFactory(owner=rep)
    client.force_login(rep)
    upload(client, "Listino <2026> & co.pdf", PDF, opportunity=opp.pk)
    page = client.get(opp.get_absolute_url()).content.decode()
    assert "Listino &lt;2026&gt; &amp; co.pdf" in page
