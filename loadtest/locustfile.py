"""What a busy sales team does, for `make load` (loadtest/run.py starts the server and this).

Each simulated user logs in through the real login form, then keeps opening the board, listing
deals through the API with a token (as an integration would) and moving cards on the board, each
user on its own deals so no move is refused as stale. Any non-2xx answer is a failure.

With several instances (``LOAD_HOSTS``, comma-separated base URLs, from ``--nodes``), each request
goes to the next instance in turn, as a round-robin load balancer would send it: a user logs in on
one and its session cookie is used on all of them.
"""

import itertools
import os

from locust import HttpUser, between, task

USERNAME = os.environ.get("LOAD_USERNAME", "manager")
PASSWORD = os.environ.get("LOAD_PASSWORD", "crm-demo-manager")
TOKEN = os.environ["LOAD_API_TOKEN"]
USERS = int(os.environ.get("LOAD_USERS", "8"))
HOSTS = [h for h in os.environ.get("LOAD_HOSTS", "").split(",") if h]
_next_index = itertools.count()


class SalesUser(HttpUser):
    wait_time = between(0.5, 1.5)

    def on_start(self):
        self.index = next(_next_index) % USERS
        # Each user starts on another instance, then takes the next one for every request.
        hosts = HOSTS or [self.host]
        self.nodes = itertools.cycle(hosts[self.index % len(hosts) :] + hosts[: self.index % len(hosts)])
        self.next_node()
        self.api = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}
        self.client.get("/login/", name="login form")
        with self.client.post(
            "/login/",
            {"username": USERNAME, "password": PASSWORD, "csrfmiddlewaretoken": self.client.cookies.get("csrftoken")},
            headers={"Referer": f"{self.host}/login/"},
            allow_redirects=False,
            name="login",
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"login answered {response.status_code}")
        pipeline = self.client.get("/api/v1/pipelines/", headers=self.api, name="setup: pipelines").json()
        default = pipeline["results"][0] if "results" in pipeline else pipeline[0]
        self.open_stages = [s["id"] for s in default["stages"] if s["kind"] == "open"]
        deals = self.client.get(
            f"/api/v1/opportunities/?status=open&pipeline={default['id']}&page_size=200",
            headers=self.api,
            name="setup: deals",
        ).json()["results"]
        mine = sorted(deals, key=lambda d: d["id"])[self.index :: USERS]  # disjoint slices: no stale moves
        self.deals = {d["id"]: {"stage": d["stage"], "version": d["version"]} for d in mine}
        self.cycle = itertools.cycle(sorted(self.deals))

    def next_node(self):
        self.client.base_url = next(self.nodes)

    @task(3)
    def board(self):
        self.next_node()
        self.client.get("/pipeline/", name="board")

    @task(3)
    def opportunity_list_api(self):
        self.next_node()
        self.client.get("/api/v1/opportunities/", headers=self.api, name="API: opportunity list")

    @task(2)
    def move(self):
        self.next_node()
        pk = next(self.cycle)
        deal = self.deals[pk]
        stages = self.open_stages
        target = stages[(stages.index(deal["stage"]) + 1) % len(stages)] if deal["stage"] in stages else stages[0]
        with self.client.post(
            f"/pipeline/deals/{pk}/move/",
            {"stage": target, "version": deal["version"], "csrfmiddlewaretoken": self.client.cookies.get("csrftoken")},
            headers={"Accept": "application/json", "Referer": f"{self.host}/pipeline/"},
            name="board: move a card",
            catch_response=True,
        ) as response:
            body = response.json() if response.status_code in (200, 409) else {}
            if response.status_code == 200 and body.get("ok"):
                deal.update(stage=body["stage"], version=body["version"])
            else:
                response.failure(f"move answered {response.status_code}: {body.get('message', '')}")
