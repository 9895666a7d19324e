"""Load a believable demo data set, once: Italian companies and people, two teams, ~300 deals.

Everything is created through the same services the app uses, so the demo deals have real stage
histories. Running it again does nothing (``--force`` is refused when demo data is already there).
"""

import datetime
import random
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from stdnum import luhn

from accounts.models import Team, User
from activities.models import Activity
from contacts.models import Contact, Organization
from contacts.services import contact_create, organization_create
from core.services import exchange_rate_set
from opportunities.models import LeadSource, Opportunity, OpportunityLine, OpportunityType, Status
from opportunities.services import (
    opportunity_create,
    opportunity_line_add,
    opportunity_move_stage,
)
from opportunities.services.rotting import opportunity_activity_done
from pipeline.models import LostReason, Pipeline, Stage
from products.models import Product
from quotes.services import quote_accept, quote_create, quote_send

DEMO_PREFIX = "demo-"

# username, password, first name, last name, role, team
DEMO_USERS = [
    ("admin", "crm-demo-admin", "Alessandra", "Ferri", User.Role.ADMIN, None),
    ("manager", "crm-demo-manager", "Giulia", "Rossi", User.Role.MANAGER, "Nord"),
    ("rep1", "crm-demo-rep", "Marco", "Bianchi", User.Role.REP, "Nord"),
    ("rep2", "crm-demo-rep", "Sara", "Colombo", User.Role.REP, "Nord"),
    ("manager2", "crm-demo-manager", "Paolo", "Esposito", User.Role.MANAGER, "Centro-Sud"),
    ("rep3", "crm-demo-rep", "Chiara", "Romano", User.Role.REP, "Centro-Sud"),
]

CITIES = [
    ("Milano", "MI", "20121"),
    ("Torino", "TO", "10121"),
    ("Bologna", "BO", "40121"),
    ("Verona", "VR", "37121"),
    ("Padova", "PD", "35121"),
    ("Brescia", "BS", "25121"),
    ("Bergamo", "BG", "24121"),
    ("Genova", "GE", "16121"),
    ("Modena", "MO", "41121"),
    ("Firenze", "FI", "50123"),
    ("Roma", "RM", "00184"),
    ("Napoli", "NA", "80133"),
    ("Bari", "BA", "70121"),
    ("Palermo", "PA", "90133"),
    ("Pescara", "PE", "65121"),
]
NORTH = {"MI", "TO", "BO", "VR", "PD", "BS", "BG", "GE", "MO"}

COMPANY_WORDS = [
    "Officine",
    "Tecnologie",
    "Gruppo",
    "Industrie",
    "Laboratori",
    "Costruzioni",
    "Logistica",
    "Meccanica",
    "Alimentari",
    "Servizi",
    "Sistemi",
    "Tessile",
]
COMPANY_NAMES = [
    "Bianchi",
    "Lombarda",
    "Adriatica",
    "Del Po",
    "Sabauda",
    "Ferretti",
    "Marchetti",
    "Fontana",
    "Galli",
    "Conti",
    "Moretti",
    "Ricci",
    "Vesuviana",
    "Appenninica",
    "Ligure",
    "Emiliana",
    "Barbieri",
    "Lombardi",
    "Serra",
    "Mancini",
]
LEGAL_FORMS = ["S.r.l.", "S.p.A.", "S.r.l.", "S.n.c.", "S.r.l.s."]
SECTORS = [
    "Manifattura",
    "Alimentare",
    "Logistica",
    "Software",
    "Moda",
    "Edilizia",
    "Sanità",
    "Energia",
    "Turismo",
    "Automotive",
]
FIRST_NAMES = [
    "Luca",
    "Francesca",
    "Andrea",
    "Elena",
    "Matteo",
    "Chiara",
    "Davide",
    "Valentina",
    "Stefano",
    "Federica",
    "Simone",
    "Martina",
    "Giorgio",
    "Silvia",
    "Alberto",
    "Roberta",
    "Nicola",
    "Laura",
]
LAST_NAMES = [
    "Russo",
    "Ferrari",
    "Esposito",
    "Greco",
    "Bruno",
    "Gallo",
    "Costa",
    "Giordano",
    "Mancini",
    "Lombardo",
    "Barbieri",
    "Fontana",
    "Santoro",
    "Mariani",
    "Rinaldi",
    "Caruso",
    "Ferrara",
    "Gatti",
]
JOB_TITLES = [
    "Amministratore delegato",
    "Direttore acquisti",
    "Responsabile IT",
    "Direttore commerciale",
    "Responsabile amministrativo",
    "Office manager",
    "Direttore operativo",
]
PRODUCTS = [
    ("CRM Cloud – licenza annuale per utente", "CRM-LIC", "service", "Software", "480.00", "22.00"),
    ("Modulo Preventivi e PDF", "CRM-QUO", "service", "Software", "240.00", "22.00"),
    ("Consulenza di avvio (giornata)", "SRV-START", "service", "Servizi", "650.00", "22.00"),
    ("Formazione in aula (giornata)", "SRV-TRAIN", "service", "Servizi", "900.00", "22.00"),
    ("Assistenza premium annuale", "SRV-CARE", "service", "Servizi", "1200.00", "22.00"),
    ("Server rack 2U", "HW-RACK2U", "product", "Hardware", "3200.00", "22.00"),
    ("Tablet rugged per agenti", "HW-TAB", "product", "Hardware", "780.00", "22.00"),
    ("Manuale “Vendere meglio” (libro)", "BK-VEND", "product", "Editoria", "25.00", "4.00"),
]
DEAL_TOPICS = [
    "Rinnovo licenze",
    "Nuovo CRM per la rete vendita",
    "Tablet per agenti",
    "Formazione commerciale",
    "Integrazione gestionale",
    "Ampliamento utenti",
    "Server per sede",
    "Progetto pilota",
    "Assistenza premium",
    "Migrazione dati",
]
NEXT_STEPS = [
    "Chiamare per feedback sulla demo",
    "Inviare preventivo aggiornato",
    "Fissare incontro con l'ufficio acquisti",
    "Preparare proposta tecnica",
    "Verificare budget con il CFO",
    "Organizzare sessione di prova",
    "",
]


def partita_iva(rng: random.Random) -> str:
    digits = "".join(str(rng.randint(0, 9)) for _ in range(7)) + f"{rng.randint(1, 100):03d}"
    return digits + luhn.calc_check_digit(digits)


class Command(BaseCommand):
    help = "Create the demo data set (users, teams, companies, contacts, products, ~300 deals). Runs once."

    def add_arguments(self, parser):
        parser.add_argument("--deals", type=int, default=300, help="How many deals to create (default 300).")
        parser.add_argument("--seed", type=int, default=42, help="Random seed, for a reproducible data set.")

    def handle(self, *args, deals, seed, **options):
        if Organization.objects.filter(external_id__startswith=DEMO_PREFIX).exists():
            self.stdout.write("Demo data already loaded: nothing to do.")
            self._print_logins()
            return
        if not Pipeline.objects.exists():
            raise CommandError("No pipelines: run `python manage.py migrate` first.")
        rng = random.Random(seed)
        self.custom_rng = random.Random(seed + 1)  # its own sequence: the other demo data stay as they were
        with transaction.atomic():
            users = self._users()
            self._custom_fields(users["admin"])
            products = self._products()
            self._rates()
            orgs = self._organizations(rng, users)
            contacts = self._contacts(rng, orgs)
            created = self._deals(rng, deals, users, orgs, contacts, products)
            quotes = self._quotes(rng)
        self._outbox_drain()
        # After the drain: the example rules act on what happens from now on, not on the demo's history.
        self._rules(users)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data loaded: {len(users)} users, {len(orgs)} organizations, {len(contacts)} contacts, "
                f"{len(products)} products, {created} deals, {quotes} quotes."
            )
        )
        self._print_logins()

    def _print_logins(self):
        self.stdout.write("Demo logins (local use only):")
        for username, password, first, last, role, team in DEMO_USERS:
            where = f", team {team}" if team else ""
            self.stdout.write(f"  {username:9} / {password:17} {first} {last}, {role}{where}")

    def _users(self) -> dict[str, User]:
        users = {}
        for username, password, first, last, role, team_name in DEMO_USERS:
            team = Team.objects.get_or_create(name=team_name)[0] if team_name else None
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@demo.example",
                    "role": role,
                    "team": team,
                    "is_staff": role == User.Role.ADMIN,
                    "is_superuser": role == User.Role.ADMIN,
                },
            )
            if created:
                user.set_password(password)
                user.save(update_fields=["password"])
            if role == User.Role.MANAGER and team is not None:
                team.manager = user
                team.region = "Nord" if team_name == "Nord" else "Centro-Sud"
                team.save(update_fields=["manager", "region"])
            users[username] = user
        return users

    def _custom_fields(self, admin) -> None:
        """A few fields an Italian company asks for on day one (customfields), with values below."""
        from customfields.models import CustomField
        from customfields.services import custom_field_create

        fields = [
            ("organization", "codice_sdi", "Codice SDI", "SDI code", "text", {"section": "Fatturazione"}),
            ("organization", "pec", "PEC", "Certified e-mail (PEC)", "email", {"section": "Fatturazione"}),
            (
                "deal",
                "settore",
                "Settore",
                "Sector",
                "choice",
                {
                    "on_card": True,
                    "in_list": True,
                    "choices": [
                        {"key": "manifattura", "label_it": "Manifattura", "label_en": "Manufacturing"},
                        {"key": "servizi", "label_it": "Servizi", "label_en": "Services"},
                        {"key": "commercio", "label_it": "Commercio", "label_en": "Retail"},
                        {"key": "pa", "label_it": "Pubblica amministrazione", "label_en": "Public sector"},
                    ],
                },
            ),
            ("deal", "budget_approvato", "Budget approvato", "Approved budget", "money", {"in_list": True}),
        ]
        for order, (entity, key, label_it, label_en, type_, extra) in enumerate(fields):
            if not CustomField.objects.filter(entity=entity, key=key).exists():
                custom_field_create(
                    user=admin,
                    entity=entity,
                    key=key,
                    label_it=label_it,
                    label_en=label_en,
                    type=type_,
                    order=order,
                    **extra,
                )

    def _products(self) -> list[Product]:
        products = []
        for name, code, kind, category, price, vat in PRODUCTS:
            product, _ = Product.objects.get_or_create(
                code=code,
                defaults={
                    "name": name,
                    "kind": kind,
                    "category": category,
                    "unit_price": Decimal(price),
                    "vat_rate": Decimal(vat),
                },
            )
            products.append(product)
        return products

    def _rates(self):
        start = timezone.localdate().replace(month=1, day=1) - datetime.timedelta(days=730)
        for currency, rate in [("USD", "0.92"), ("CHF", "1.05"), ("GBP", "1.17")]:
            exchange_rate_set(currency=currency, valid_from=start, rate=Decimal(rate))

    def _organizations(self, rng, users) -> list[Organization]:
        orgs, seen = [], set()
        north_owners = [users["rep1"], users["rep2"], users["manager"]]
        south_owners = [users["rep3"], users["manager2"]]
        while len(orgs) < 60:
            name = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_NAMES)} {rng.choice(LEGAL_FORMS)}"
            if name in seen:
                continue
            seen.add(name)
            city, province, cap = rng.choice(CITIES)
            owner = rng.choice(north_owners if province in NORTH else south_owners)
            slug = name.split()[1].lower().replace(" ", "")
            orgs.append(
                organization_create(
                    user=owner,
                    data={
                        "name": name,
                        "vat_number": partita_iva(rng),
                        "sector": rng.choice(SECTORS),
                        "employees": rng.choice([8, 15, 24, 40, 75, 120, 250, 600]),
                        "annual_revenue": Decimal(rng.randrange(500_000, 80_000_000, 10_000)),
                        "founded_year": rng.randint(1950, 2020),
                        "street": f"Via {rng.choice(LAST_NAMES)} {rng.randint(1, 180)}",
                        "postal_code": cap,
                        "city": city,
                        "province": province,
                        "country": "Italia",
                        "phone": f"+39 0{rng.randint(10, 99)} {rng.randint(1000000, 9999999)}",
                        "website": f"https://www.{slug}{len(orgs)}.example",
                        "email": f"info@{slug}{len(orgs)}.example",
                        "owner": owner,
                        "external_id": f"{DEMO_PREFIX}org-{len(orgs) + 1}",
                        "custom_fields": {
                            "codice_sdi": self.custom_rng.choice(["M5UXCR1", "KRRH6B9", "USAL8PV", "0000000"]),
                            "pec": f"{slug}{len(orgs)}@pec.example.it",
                        },
                    },
                )
            )
        return orgs

    def _contacts(self, rng, orgs) -> list[Contact]:
        contacts = []
        for org in orgs:
            domain = org.email.split("@")[1]
            for _ in range(rng.randint(1, 3)):
                first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                contacts.append(
                    contact_create(
                        user=org.owner,
                        data={
                            "first_name": first,
                            "last_name": last,
                            "email": f"{first}.{last}@{domain}".lower(),
                            "phone": org.phone,
                            "mobile": f"+39 3{rng.randint(20, 49)} {rng.randint(1000000, 9999999)}",
                            "job_title": rng.choice(JOB_TITLES),
                            "organization": org,
                            "owner": org.owner,
                            "external_id": f"{DEMO_PREFIX}contact-{len(contacts) + 1}",
                        },
                    )
                )
        return contacts

    def _deals(self, rng, count, users, orgs, contacts, products) -> int:
        now = timezone.now()
        today = timezone.localdate()
        reasons = list(LostReason.objects.all())
        pipelines = list(Pipeline.objects.prefetch_related("stages").order_by("-is_default", "pk"))
        by_org: dict[int, list[Contact]] = {}
        for contact in contacts:
            by_org.setdefault(contact.organization_id, []).append(contact)
        for number in range(count):
            pipeline = pipelines[0] if number % 4 else pipelines[-1]
            stages = list(pipeline.stages.all())
            open_stages = [s for s in stages if s.kind == Stage.Kind.OPEN]
            won = next(s for s in stages if s.kind == Stage.Kind.WON)
            lost = next(s for s in stages if s.kind == Stage.Kind.LOST)
            outcome = rng.choices(["open", "won", "lost"], weights=[55, 25, 20])[0]
            org = rng.choice(orgs)
            contact = rng.choice(by_org.get(org.pk, [None]))
            created = now - datetime.timedelta(days=rng.randint(20, 540), hours=rng.randint(0, 10))
            currency = rng.choices(["EUR", "USD", "CHF"], weights=[90, 6, 4])[0]
            owner = org.owner if rng.random() < 0.85 else rng.choice(list(users.values())[1:])
            if outcome == "open":
                expected = today + datetime.timedelta(days=rng.randint(-25, 150))
            else:
                expected = (created + datetime.timedelta(days=rng.randint(20, 120))).date()
            lines = [
                OpportunityLine(
                    product=product,
                    unit_price=product.unit_price,
                    quantity=Decimal(rng.choice([1, 2, 3, 5, 10, 20])),
                    discount_percent=Decimal(rng.choice([0, 0, 5, 10, 15])),
                )
                for product in rng.sample(products, rng.randint(1, 3))
            ]
            # The amount is known when the deal is created, as when a rep types it: no audit entry
            # "amount 0 → …" dated today on a deal created months ago.
            opp = opportunity_create(
                user=owner,
                owner=owner,
                amount=sum((line.net_total for line in lines), Decimal(0)),
                name=f"{rng.choice(DEAL_TOPICS)} – {org.name.split()[1]}",
                organization=org,
                contact=contact,
                stage=open_stages[0],
                currency=currency,
                expected_close_date=expected,
                type=rng.choice(OpportunityType.values),
                lead_source=rng.choice(LeadSource.values),
                next_step=rng.choice(NEXT_STEPS) if outcome == "open" else "",
                next_step_date=today + datetime.timedelta(days=rng.randint(1, 21)) if outcome == "open" else None,
                external_id=f"{DEMO_PREFIX}deal-{number + 1}",
                created_at=created,
                custom_fields={
                    "settore": self.custom_rng.choice(["manifattura", "servizi", "commercio", "pa"]),
                    "budget_approvato": str(self.custom_rng.randrange(5_000, 150_000, 500)),
                },
            )
            for line in lines:
                opportunity_line_add(
                    opportunity=opp,
                    user=owner,
                    product=line.product,
                    quantity=line.quantity,
                    discount_percent=line.discount_percent,
                )
            self._walk(rng, opp, owner, outcome, open_stages, won, lost, reasons, created, now)
            self._activities(rng, opp, owner, outcome, now)
        return count

    def _quotes(self, rng) -> int:
        """A few quotes, as reps make them from their deals: sent for deals being negotiated,
        accepted for some won ones, one draft still being written."""
        deals = list(
            Opportunity.objects.filter(external_id__startswith=DEMO_PREFIX, lines__isnull=False)
            .exclude(status=Status.LOST)
            .select_related("owner", "stage")
            .distinct()
            .order_by("pk")
        )
        chosen = rng.sample(deals, min(8, len(deals)))
        for index, deal in enumerate(chosen):
            quote = quote_create(user=deal.owner, opportunity=deal)
            if index == 0:
                continue  # a draft
            quote = quote_send(quote=quote, user=deal.owner)
            if deal.status == Status.WON:
                quote_accept(quote=quote, user=deal.owner)
        return len(chosen)

    def _walk(self, rng, opp, owner, outcome, open_stages, won, lost, reasons, created, now):
        """Move the deal through its pipeline at plausible past dates, as a rep would have."""
        target = rng.randint(0, len(open_stages) - 1)
        path = open_stages[1 : target + 1]
        if outcome == "won":
            path = open_stages[1:] + [won]
        elif outcome == "lost":
            path = [*path, lost]
        # An open deal was last moved in the last few weeks (some of them longer ago than their stage
        # allows, so the board shows a few stale ones, not all); a closed one any time after creation.
        end = (
            now - datetime.timedelta(days=rng.randint(1, 20)) if outcome == "open" else now - datetime.timedelta(days=1)
        )
        span = max((end - created).total_seconds(), 3_600)
        moments = sorted(rng.uniform(0, span) for _ in path)
        if outcome == "open" and moments:
            moments[-1] = span  # an open deal entered its stage at ``end``, not months ago
        version = opp.version
        for stage, offset in zip(path, moments, strict=True):
            moved = opportunity_move_stage(
                opportunity=opp,
                stage=stage,
                user=owner,
                expected_version=version,
                lost_reason=rng.choice(reasons) if stage == lost else None,
                at=created + datetime.timedelta(seconds=offset),
            )
            version = moved.version

    def _activities(self, rng, opp, owner, outcome, now):
        planned = []
        if outcome == "open":
            # Most open deals are being worked on, as in a real pipeline: a call done in the last few
            # days (the rot clock starts again) and the next one planned. A few are left alone: those
            # are the rotten ones, and the ones with no planned activity.
            if rng.random() < 0.85:
                planned.append((now - datetime.timedelta(days=rng.randint(0, 5), hours=rng.randint(1, 6)), True))
            if rng.random() < 0.85:
                planned.append((now + datetime.timedelta(days=rng.randint(1, 14), hours=rng.randint(1, 6)), False))
        for due, done in planned:
            Activity.objects.create(
                kind=Activity.Kind.CALL,
                subject=rng.choice(["Chiamata di aggiornamento", "Follow-up dell'offerta", "Verifica dei requisiti"]),
                due_at=due,
                duration_minutes=30,
                done=done,
                done_at=due if done else None,
                owner=owner,
                opportunity=opp,
                organization=opp.organization,
            )
            if done:
                opportunity_activity_done(opportunity_id=opp.pk, done_at=due)
        for _ in range(rng.randint(0, 3)):
            due = now + datetime.timedelta(days=rng.randint(-30, 30), hours=rng.randint(8, 17) - now.hour)
            done = outcome != "open" or due < now and rng.random() < 0.6
            Activity.objects.create(
                kind=rng.choice(Activity.Kind.values),
                subject=rng.choice(
                    ["Chiamata di aggiornamento", "Demo del prodotto", "Invio documentazione", "Incontro in sede"]
                ),
                due_at=due,
                duration_minutes=rng.choice([15, 30, 60, 90]),
                done=done,
                done_at=due if done else None,
                owner=owner,
                opportunity=opp,
                organization=opp.organization,
            )
            if done:
                opportunity_activity_done(opportunity_id=opp.pk, done_at=due)

    def _rules(self, users) -> None:
        """Three example automation rules (automations), an administrator's, for every team."""
        from automations.models import ActionKind, Recipient, Rule, RuleAction, Trigger
        from automations.services import rule_save
        from pipeline.models import LostReason

        if Rule.objects.exists():
            return
        admin = users["admin"]
        pipeline = Pipeline.objects.default()
        demo = pipeline.stages.filter(name="Demo scheduled").first()
        price = LostReason.objects.filter(name="Price").first()
        if demo is not None:
            rule_save(
                user=admin,
                name="Demo fissata: preparare la demo",
                trigger=Trigger.STAGE_ENTERED,
                trigger_stage=demo,
                actions=[
                    RuleAction(
                        kind=ActionKind.CREATE_ACTIVITY, text="Prepare the demo", activity_kind="task", due_days=2
                    )
                ],
            )
        if price is not None:
            rule_save(
                user=admin,
                name="Persa per il prezzo: avvisare il responsabile",
                trigger=Trigger.LOST,
                trigger_lost_reason=price,
                actions=[RuleAction(kind=ActionKind.NOTIFY, text="Persa per il prezzo", recipient=Recipient.MANAGER)],
            )
        rule_save(
            user=admin,
            name="Vinta: chiamata di avvio",
            trigger=Trigger.WON,
            actions=[
                RuleAction(kind=ActionKind.CREATE_ACTIVITY, text="Kick-off call", activity_kind="call", due_days=3)
            ],
        )

    def _outbox_drain(self):
        """Deliver the seed's own outbox events now, as the worker would, so a fresh `make run` has no
        backlog: the first webhook someone subscribes must not receive the demo's history."""
        from core.outbox import outbox_deliver_pending

        while outbox_deliver_pending(limit=1000):
            pass
