"""A demo organisation for `make run`: one group, its staff and three members."""

from __future__ import annotations

from app import accounts, groups, schedule
from app.services import Services
from app.storage import accounts as account_store

DEMO_PASSWORD = "village-demo-2026"
DEMO_AGREEMENTS = """1. What is shared here stays here. Please do not screenshot or repeat what
   others say.
2. Use the name you chose; you never have to share your real name.
3. Speak from your own experience, and listen without judging or giving advice unasked.
4. This group is peer support, not therapy or emergency care. In an emergency call 911, or
   call or text 988 (Suicide & Crisis Lifeline).
5. Limits of confidentiality: if something you write suggests a risk to you, your baby or
   someone else, it may be shared with this group's clinicians so they can reach out."""

PEOPLE = [
    ("admin@village.test", "Village Admin", None, ""),
    ("facilitator@village.test", "Rosa (facilitator)", "facilitator", "Certified Peer Specialist"),
    ("clinician@village.test", "Dr. Okafor", "clinician", "LCSW"),
    ("amara@village.test", "Amara", "member", ""),
    ("bea@village.test", "Bea", "member", ""),
    ("chloe@village.test", "Chloe", "member", ""),
]


async def seed(svc: Services) -> list[tuple[str, str, str]]:
    """Idempotent: returns (role, email, password) for each demo login."""
    org = await groups.ensure_org(svc, "Village demo")
    async with svc.db.transaction() as s:
        existing = await account_store.user_by_email(s, PEOPLE[0][0])
    if existing is None:
        admin = await accounts.create_user(
            svc,
            org_id=org.id,
            email=PEOPLE[0][0],  # type: ignore[arg-type]
            display_name=PEOPLE[0][1],
            password=DEMO_PASSWORD,
            is_admin=True,
        )
        group = await groups.create_group(
            svc,
            admin,
            name="Tuesday evening circle",
            description="A weekly peer group for mothers in the first year after birth.",
            agreements=DEMO_AGREEMENTS,
        )
        for email, name, role, credential in PEOPLE[1:]:
            await accounts.create_user(
                svc,
                org_id=org.id,
                email=email,
                display_name=name,  # type: ignore[arg-type]
                password=DEMO_PASSWORD,
                credential=credential,
            )
            await groups.assign(svc, admin, group.id, email, role or "member")  # type: ignore[arg-type]
        await schedule.seed_demo_schedule(svc, admin, group.id)  # type: ignore[arg-type]
    return [(role or "admin", email, DEMO_PASSWORD) for email, _, role, _ in PEOPLE]
