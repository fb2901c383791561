"""Realistic demo data at any size: Indian names and mobile numbers, areas, sources, stages spread over the
pipeline, counsellors, companies, activities, follow-ups and history across the last 90 days.

`fill(leads=N)` tops the database up to N leads (running it again does nothing more). PostgreSQL loads
through COPY (1,000,000 leads with their history in a few minutes); other databases through bulk_create.
Deterministic: the same N gives the same data.
"""

import random
import uuid
from contextlib import contextmanager
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from crm.accounts.models import User
from crm.leads.models import Activity, Company, FollowUp, Lead, Stage, StatusChange, Technology

FIRST = ("Aarav Aditi Akhil Amal Anjali Anu Arjun Aswathy Bhavana Deepak Devika Divya Farhan Fathima Gautham Gopika "
         "Hari Irfan Jithin Kavya Keerthi Krishna Lakshmi Manu Meera Midhun Nandana Neha Nikhil Niranjana Pooja "
         "Pranav Priya Rahul Rakesh Reshma Riya Rohan Sachin Sandra Sanjay Shreya Sneha Sreejith Sruthi Tanvi Varun "
         "Vishnu Yamuna Zainab Abdul Ahmed Alan Ann Basil Christy Elena Jose Maria Neil Sara Thomas").split()
LAST = ("Nair Menon Pillai Kurup Varma Iyer Kumar Das Thomas Joseph George Mathew Kurian Rasheed Ali Khan Shetty "
        "Rao Reddy Sharma Gupta Patel Singh Verma Chandran Krishnan Babu Raj Jacob Abraham Varghese Panicker").split()
PLACES = [
    ("Kakkanad", "Kochi", "Kerala"), ("Edappally", "Kochi", "Kerala"), ("Vyttila", "Kochi", "Kerala"),
    ("Kazhakkoottam", "Thiruvananthapuram", "Kerala"), ("Pattom", "Thiruvananthapuram", "Kerala"),
    ("Mavoor Road", "Kozhikode", "Kerala"), ("Thrissur Round", "Thrissur", "Kerala"), ("Kottayam Town", "Kottayam", "Kerala"),
    ("Indiranagar", "Bengaluru", "Karnataka"), ("Koramangala", "Bengaluru", "Karnataka"), ("Whitefield", "Bengaluru", "Karnataka"),
    ("Anna Nagar", "Chennai", "Tamil Nadu"), ("T. Nagar", "Chennai", "Tamil Nadu"), ("Gachibowli", "Hyderabad", "Telangana"),
    ("Andheri", "Mumbai", "Maharashtra"), ("Kothrud", "Pune", "Maharashtra"), ("Saket", "New Delhi", "Delhi"),
]
SOURCES = ["Website", "Referral", "Social Media", "Cold Call", "Email Campaign", "Trade Show", "Walk-in", "Import"]
INTERESTS = ["B.Tech Computer Science", "MBA", "BBA", "B.Com", "MCA", "B.Sc Nursing", "Data Science Diploma",
             "Hotel Management", "Aviation", "BCA", "M.Tech", "Digital Marketing"]
INDUSTRIES = ["Education", "Information Technology", "Healthcare", "Retail", "Finance", "Manufacturing", "Hospitality",
              "Logistics", "Media", "Real Estate"]
COUNTRIES = ["India", "India", "India", "United Arab Emirates", "Singapore", "United Kingdom", "United States"]
TECHNOLOGIES = ["Python", "Django", "React", "Salesforce", "HubSpot", "AWS", "Azure", "Google Workspace", "Shopify",
                "WordPress", "SAP", "Zoho", "Tally", "Java", "Kubernetes"]
OUTCOMES = ["Answered", "No answer", "Busy", "Call back later", "Sent brochure", "Interested", "Wrong number"]
DEMO_COUNSELLORS = [
    ("counsellor@example.com", "Kiran Counsellor"), ("anita@example.com", "Anita Nair"),
    ("rahul@example.com", "Rahul Menon"), ("fathima@example.com", "Fathima Rasheed"),
]


def phone_for(index: int) -> str:
    """A unique Indian mobile number for each index (a permutation of 6000000000..9999999999)."""
    return f"+91{6_000_000_000 + (index * 7_919) % 4_000_000_000}"


def ensure_counsellors(count: int) -> list[User]:
    users = []
    for position in range(count):
        if position < len(DEMO_COUNSELLORS):
            email, name = DEMO_COUNSELLORS[position]
        else:
            email, name = f"counsellor{position + 1}@example.com", f"Counsellor {position + 1}"
        user, created = User.objects.get_or_create(email=email, defaults={"full_name": name, "role": "sales"})
        if created:
            user.set_password("demo-pass-123")
            user.save(update_fields=["password"])
        users.append(user)
    return users


def _companies(rng: random.Random, wanted: int) -> list[int]:
    have = Company.objects.count()
    if have < wanted:
        techs = [Technology.objects.get_or_create(name=name)[0] for name in TECHNOLOGIES]
        now = timezone.now()
        new = []
        for i in range(have, wanted):
            area, city, state = rng.choice(PLACES)
            word = rng.choice(LAST)
            new.append(Company(
                name=f"{word} {rng.choice(['Technologies', 'Academy', 'Traders', 'Hospitals', 'Logistics', 'Labs'])} {i + 1}",
                domain=f"{word.lower()}{i + 1}.example.com", industry=rng.choice(INDUSTRIES),
                employees=rng.choice([5, 12, 40, 120, 350, 800, 2500, 12000]),
                annual_revenue=rng.choice([2, 8, 25, 90, 400, 1500]) * 100_000,
                city=city, state=state, country=rng.choice(COUNTRIES),
                website=f"https://{word.lower()}{i + 1}.example.com",
                linkedin=f"https://www.linkedin.com/company/{word.lower()}{i + 1}" if rng.random() < 0.6 else "",
                created_at=now - timedelta(days=rng.randint(0, 120)),
            ))
        created = Company.objects.bulk_create(new, batch_size=5000)
        through = Company.technologies.through
        links = []
        for company in created:
            for tech in rng.sample(techs, rng.randint(1, 4)):
                links.append(through(company_id=company.pk, technology_id=tech.pk))
        through.objects.bulk_create(links, batch_size=10000)
    return list(Company.objects.order_by("pk").values_list("pk", flat=True)[:wanted])


def _lead_rows(rng, start, count, stages, counsellor_ids, company_ids, now):
    """Yield (lead_fields, history) for leads start..start+count-1."""
    open_stages = [s for s in stages]
    weights = [max(1, 30 - 2 * i) for i in range(len(open_stages))]
    first = stages[0]
    for index in range(start, start + count):
        first_name, last_name = rng.choice(FIRST), rng.choice(LAST)
        area, city, state = rng.choice(PLACES)
        created = now - timedelta(days=rng.random() * 90, minutes=rng.randint(0, 600))
        stage = rng.choices(open_stages, weights)[0]
        assigned = rng.choice(counsellor_ids) if rng.random() < 0.8 else None
        assigned_at = created + timedelta(hours=rng.randint(1, 48)) if assigned else None
        contacted = None
        if assigned and rng.random() < 0.65:
            contacted = min(now, assigned_at + timedelta(hours=rng.randint(1, 200)))
        stage_at = created if stage.pk == first.pk else min(now, (contacted or created) + timedelta(hours=rng.randint(0, 72)))
        follow_up = None
        if stage.asks_follow_up and assigned:
            follow_up = now + timedelta(days=rng.randint(-5, 14), hours=rng.randint(-6, 6))
        updated = max(x for x in (created, assigned_at, contacted, stage_at) if x)
        yield {
            "uuid": uuid.UUID(int=rng.getrandbits(128), version=4),
            "name": f"{first_name} {last_name}",
            "phone": phone_for(index),
            "email": f"{first_name.lower()}.{last_name.lower()}{index}@example.com" if rng.random() < 0.7 else None,
            "area": area, "city": city, "state": state, "country": "India",
            "source": rng.choice(SOURCES), "interest": rng.choice(INTERESTS),
            "value": rng.choice([None, None, 45000, 90000, 150000, 250000]),
            "company_id": rng.choice(company_ids) if company_ids and rng.random() < 0.3 else None,
            "lead_date": created.date(), "stage_id": stage.pk, "stage_changed_at": stage_at,
            "rank": index * 1024, "assigned_to_id": assigned, "assigned_at": assigned_at,
            "next_follow_up_at": follow_up, "last_contacted_at": contacted,
            "created_at": created, "updated_at": updated,
        }, (first.pk, stage.pk, stage_at, assigned, contacted, follow_up)


LEAD_COLUMNS = ["uuid", "name", "phone", "alternate_phones", "email", "area", "city", "state", "country", "source",
                "interest", "value", "company_id", "lead_date", "remark", "notes", "stage_id", "stage_changed_at",
                "rank", "assigned_to_id", "assigned_at", "next_follow_up_at", "last_contacted_at", "version",
                "created_at", "updated_at"]


def fill(*, leads: int, counsellors: int | None = None, seed: int = 42, batch: int = 50_000, log=print) -> int:
    """Top the database up to `leads` leads; returns how many were added."""
    have = Lead.objects.count()
    if have >= leads:
        return 0
    rng = random.Random(seed + have)
    counsellor_ids = [u.pk for u in ensure_counsellors(counsellors or (20 if leads >= 100_000 else 4))]
    company_ids = _companies(rng, max(10, leads // 20))
    stages = list(Stage.objects.filter(is_active=True).order_by("position"))
    now = timezone.now()
    added = 0
    while have + added < leads:
        count = min(batch, leads - have - added)
        rows = list(_lead_rows(rng, have + added, count, stages, counsellor_ids, company_ids, now))
        with transaction.atomic():
            if connection.vendor == "postgresql":
                _copy_batch(rows)
            else:
                _bulk_batch(rows)
        added += count
        log(f"  {have + added:,} leads")
    return added


def _history(lead_id, history, fields):
    first_id, stage_id, stage_at, assigned, contacted, follow_up = history
    created = fields["created_at"]
    status = [(lead_id, None, first_id, None, created, "Created")]
    if stage_id != first_id:
        status.append((lead_id, first_id, stage_id, assigned, stage_at, ""))
    activity = [(lead_id, "call", "Answered", "", "Spoke about the course", assigned, contacted)] if contacted else []
    follow = [(lead_id, assigned, follow_up, "Call back", None, created)] if follow_up else []
    return status, activity, follow


@contextmanager
def _keep_given_timestamps(model):
    """bulk_create would stamp every row with now (auto_now_add / auto_now); demo rows carry their own."""
    fields = [f for f in model._meta.fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    for field in fields:
        field.auto_now = field.auto_now_add = False
    try:
        yield
    finally:
        for field, auto_now, auto_now_add in saved:
            field.auto_now, field.auto_now_add = auto_now, auto_now_add


def _bulk_batch(rows):
    with _keep_given_timestamps(Lead):
        objs = Lead.objects.bulk_create([Lead(**fields) for fields, _ in rows], batch_size=2000)
    ids = dict(Lead.objects.filter(phone__in=[o.phone for o in objs]).values_list("phone", "pk"))
    status, activity, follow = [], [], []
    for fields, history in rows:
        s, ac, f = _history(ids[fields["phone"]], history, fields)
        status += [StatusChange(lead_id=r[0], from_stage_id=r[1], to_stage_id=r[2], by_id=r[3], at=r[4], note=r[5]) for r in s]
        activity += [Activity(lead_id=r[0], kind=r[1], outcome=r[2], subject=r[3], body=r[4], by_id=r[5], at=r[6]) for r in ac]
        follow += [FollowUp(lead_id=r[0], owner_id=r[1], due_at=r[2], note=r[3], done_at=r[4]) for r in f]
    StatusChange.objects.bulk_create(status, batch_size=2000)
    Activity.objects.bulk_create(activity, batch_size=2000)
    FollowUp.objects.bulk_create(follow, batch_size=2000)


def _copy(cursor, table, columns, rows):
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _copy_batch(rows):
    with connection.cursor() as django_cursor:
        cursor = django_cursor.cursor
        values = []
        for fields, _ in rows:
            values.append(tuple(fields.get(c, "" if c in ("alternate_phones", "remark", "notes") else 1 if c == "version" else None)
                                for c in LEAD_COLUMNS))
        _copy(cursor, Lead._meta.db_table, LEAD_COLUMNS, values)
        phones = [f["phone"] for f, _ in rows]
        cursor.execute(f"SELECT phone, id FROM {Lead._meta.db_table} WHERE phone = ANY(%s)", [phones])  # noqa: S608
        ids = dict(cursor.fetchall())
        status, activity, follow = [], [], []
        for fields, history in rows:
            s, ac, f = _history(ids[fields["phone"]], history, fields)
            status += s
            activity += ac
            follow += f
        _copy(cursor, StatusChange._meta.db_table, ["lead_id", "from_stage_id", "to_stage_id", "by_id", "at", "note"], status)
        _copy(cursor, Activity._meta.db_table, ["lead_id", "kind", "outcome", "subject", "body", "by_id", "at"], activity)
        _copy(cursor, FollowUp._meta.db_table, ["lead_id", "owner_id", "due_at", "note", "done_at", "created_at"], follow)


