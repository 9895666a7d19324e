"""Notes with mentions (issue 18): a feed on deals, contacts and organizations, sanitised light
formatting, @mentions among users who may see the record, pinned notes, edit/delete by the author,
on the deal's timeline and in the API."""

import pytest
from django.urls import reverse

from accounts.permissions import ChangeNotAllowed
from contacts.tests.factories import OrganizationFactory
from core.models import OutboxEvent
from notes.formatting import note_html
from notes.models import Note
from notes.services import note_create, note_delete, note_update
from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db


def test_a_mention_names_only_colleagues_who_may_see_the_deal(rep, teammate, other_rep, stages):
    deal = OpportunityFactory(owner=rep)
    note = note_create(user=rep, body="@teammate please call, @other_rep too, @nobody", record=deal)
    assert [u.username for u in note.mentions.all()] == ["teammate"]  # other_rep's team does not see it
    event = OutboxEvent.objects.get(topic="note.mentioned")
    assert event.payload["users"] == [teammate.pk]

    # Editing the note does not tell teammate twice.
    note_update(note=note, user=rep, body="@teammate please call today")
    assert OutboxEvent.objects.filter(topic="note.mentioned").count() == 1


def test_the_text_is_sanitised_and_lightly_formatted():
    html = note_html('**Prezzo** *ok* <script>alert(1)</script> <a href="javascript:x">x</a> https://example.com\nok')
    assert "<strong>Prezzo</strong>" in html and "<em>ok</em>" in html
    assert "<script" not in html and "&lt;script&gt;" in html  # shown as typed, never run
    assert '<a href="javascript' not in html
    assert '<a href="https://example.com" rel="noopener noreferrer nofollow">' in html
    assert "<br>" in html


def test_only_the_author_edits_or_deletes_and_the_record_editor_pins(rep, teammate, manager, stages):
    deal = OpportunityFactory(owner=rep)
    note = note_create(user=teammate, body="Visto il cliente", record=deal)
    with pytest.raises(ChangeNotAllowed):
        note_update(note=note, user=rep, body="changed")
    with pytest.raises(ChangeNotAllowed):
        note_delete(note=note, user=manager)
    assert note_update(note=note, user=rep, pinned=True).pinned  # the deal's owner may pin it
    note_delete(note=note, user=teammate)
    assert not Note.objects.exists()


def test_nobody_writes_on_a_record_they_may_not_see(rep, other_rep, stages):
    deal = OpportunityFactory(owner=rep)
    with pytest.raises(ChangeNotAllowed):
        note_create(user=other_rep, body="hello", record=deal)


def test_the_deal_page_shows_the_feed_pinned_first_and_the_timeline_entry(client, rep, teammate, stages):
    deal = OpportunityFactory(owner=rep)
    client.force_login(rep)
    response = client.post(reverse("notes:add", args=["opportunity", deal.pk]), {"body": "First **note** @teammate"})
    assert response.status_code == 302 and response["Location"].endswith("#notes")
    client.post(reverse("notes:add", args=["opportunity", deal.pk]), {"body": "Pinned one", "pinned": "1"})
    html = client.get(deal.get_absolute_url()).content.decode()
    assert html.index("Pinned one") < html.index("First <strong>note</strong>")
    assert '<span class="mention">@teammate</span>' in html
    assert 'data-kind="note"' in html

    # An empty note is a message naming the problem, never a 500.
    response = client.post(reverse("notes:add", args=["opportunity", deal.pk]), {"body": "  "}, follow=True)
    assert "Write something." in response.content.decode()


def test_feeds_on_contacts_and_organizations(client, rep, stages):
    org = OrganizationFactory(owner=rep)
    client.force_login(rep)
    client.post(reverse("notes:add", args=["organization", org.pk]), {"body": "Nota azienda"})
    assert "Nota azienda" in client.get(org.get_absolute_url()).content.decode()


def test_the_mention_lookup_lists_only_users_who_may_see_the_record(client, rep, teammate, other_rep, stages):
    deal = OpportunityFactory(owner=rep)
    client.force_login(rep)
    names = [
        r["username"] for r in client.get(reverse("notes:mentions", args=["opportunity", deal.pk])).json()["results"]
    ]
    assert "teammate" in names and "other_rep" not in names
    client.force_login(other_rep)
    assert client.get(reverse("notes:mentions", args=["opportunity", deal.pk])).status_code == 404


def test_the_api_lists_and_writes_notes(client, rep, teammate, other_rep, stages):
    deal = OpportunityFactory(owner=rep)
    client.force_login(rep)
    response = client.post(
        "/api/v1/notes/", {"opportunity": deal.pk, "body": "Via API @teammate"}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["mentions"] == [teammate.pk]
    rows = client.get("/api/v1/notes/", {"opportunity": deal.pk}).json()["results"]
    assert [r["body"] for r in rows] == ["Via API @teammate"]
    response = client.post("/api/v1/notes/", {"body": "no record"}, content_type="application/json")
    assert response.status_code == 400 and "opportunity" in response.content.decode()

    client.force_login(other_rep)
    assert client.get("/api/v1/notes/", {"opportunity": deal.pk}).json()["results"] == []


@pytest.mark.parametrize("count", [2, 12])
def test_the_feed_does_not_grow_the_deal_pages_queries(client, rep, teammate, stages, count, django_assert_num_queries):
    deal = OpportunityFactory(owner=rep)
    for index in range(count):
        note_create(user=rep, body=f"Nota {index} @teammate", record=deal)
    client.force_login(rep)
    client.get(deal.get_absolute_url())
    # The deal page's own queries (see opportunities' test_views: e-mail card, timeline e-mails, tags)
    # and the feed's notes with their authors, their mentions and whether the reader may change the deal.
    with django_assert_num_queries(26):
        client.get(deal.get_absolute_url())
