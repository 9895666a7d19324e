"""The webhooks page in the real Chromium at phone width (390 px): create a webhook to a real
receiver, copy its secret once, see a failed delivery, redeliver it (the receiver verifies it with
the `standardwebhooks` library), pause and resume, rotate the secret, delete; in both languages."""

import pytest
from standardwebhooks.webhooks import Webhook

from integrations.models import WebhookDelivery, WebhookSubscription
from integrations.tests.test_webhooks import receiver  # noqa: F401 (the real HTTP receiver fixture)
from opportunities.tests.factories import OpportunityFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fits(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the page scrolls sideways"


def test_manage_a_webhook_and_redeliver_from_the_page_on_a_phone(
    page,
    live_server,
    login,
    rep,
    teammate,
    stages,
    receiver,  # noqa: F811
    screenshot,
):
    page.set_viewport_size({"width": 390, "height": 844})
    page.on("dialog", lambda dialog: dialog.accept())  # the rotate / delete confirmations
    login(page, rep)
    page.goto(f"{live_server.url}/integrations/tokens/")
    page.click("main >> text=Webhooks")
    page.wait_for_selector("[data-testid=webhook-form]")
    _fits(page)

    page.fill("#id_target_url", receiver.url)
    page.check("text=Opportunity created")
    page.click("button:has-text('Create webhook')")
    secret = page.locator("[data-testid=new-secret] code").inner_text().strip()
    assert secret.startswith("whsec_")
    assert page.locator("[data-testid=webhook]").count() == 1
    _fits(page)
    screenshot(page, "webhooks-list-390")

    receiver.fail_next = 1
    OpportunityFactory(owner=rep, stage=stages["New"], name="Tablet Rossi")  # sent now (eager), fails
    delivery = WebhookDelivery.objects.get()
    assert delivery.attempts == 1 and delivery.response_status == 500

    page.click("[data-testid=webhook]")
    page.wait_for_selector("[data-testid=delivery][data-status=pending]")
    assert page.locator("[data-testid=new-secret]").count() == 0  # shown once, on the list
    page.click("[data-testid=delivery] button:has-text('Redeliver')")
    page.wait_for_selector("[data-testid=delivery][data-status=delivered]")
    assert "2 attempts" in page.locator("[data-testid=delivery]").inner_text()
    [request] = receiver.received
    payload = Webhook(secret).verify(request["body"], dict(request["headers"].items()))
    assert payload["data"]["opportunity"]["name"] == "Tablet Rossi"
    _fits(page)
    screenshot(page, "webhook-detail-390")

    page.click("button:has-text('Pause')")
    page.wait_for_selector("h1 >> text=paused")
    assert not WebhookSubscription.objects.get().active
    page.click("button:has-text('Resume')")
    page.wait_for_selector("h1 >> text=active")

    page.click("button:has-text('Rotate secret')")
    rotated = page.locator("[data-testid=new-secret] code").inner_text().strip()
    assert rotated.startswith("whsec_") and rotated != secret
    assert WebhookSubscription.objects.get().secret == rotated

    rep.language = "it"
    rep.save(update_fields=["language"])
    page.reload()
    page.wait_for_selector("text=Invii recenti")
    assert page.locator("[data-testid=new-secret]").count() == 0
    assert "Invia di nuovo" in page.inner_text("[data-testid=deliveries]")
    _fits(page)
    screenshot(page, "webhook-detail-390-it")

    page.click("button:has-text('Elimina')")
    page.wait_for_selector("text=Ancora nessun webhook.")
    assert not WebhookSubscription.objects.exists()


def test_another_users_webhook_is_not_found_in_the_browser(page, live_server, login, rep, teammate):
    from integrations.services import webhook_create

    hook = webhook_create(user=teammate, target_url="https://hooks.example.com/theirs", events=["opportunity.won"])
    login(page, rep)
    page.goto(f"{live_server.url}/integrations/webhooks/")
    assert "hooks.example.com/theirs" not in page.content()
    answer = page.goto(f"{live_server.url}/integrations/webhooks/{hook.pk}/")
    assert answer.status == 404
