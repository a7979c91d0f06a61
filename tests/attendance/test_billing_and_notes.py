"""The billing export against a hand-computed fixture, and signed notes that cannot change."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import accounts, billing, group_sessions, groups, session_notes
from app.errors import Conflict, InvalidInput, NotFound
from tests.attendance.conftest import SESSION_START_UTC, Env
from tests.conftest import PASSWORD

FIXTURE = Path(__file__).parent / "fixtures" / "billing_expected.csv"


async def _held_session(env: Env) -> int:
    """19:00-20:00 EST; Cora facilitates throughout. Amara 19:00-19:38, Bea 19:50 to the
    end, Dana 19:20-19:27. Cora then writes and signs the note."""
    dana = await accounts.create_user(
        env.svc,
        org_id=env.users["admin"].org_id,
        email="dana@t.test",
        display_name="=Dana",
        password=PASSWORD,
    )
    await groups.assign(env.svc, env.users["admin"], env.world.group_id, dana.email, "member")
    await groups.accept_agreements(env.svc, dana, env.world.group_id)
    env.users["dana"] = dana
    (gs,) = await env.schedule(minutes=60)
    env.clock._now = SESSION_START_UTC
    sid: int = gs.id  # type: ignore[assignment]
    await group_sessions.start_session(env.svc, env.users["cps"], sid)
    cora = await env.join("cps")
    amara = await env.join("amara")
    env.clock.advance(minutes=20)
    d = await env.join("dana")
    env.clock.advance(minutes=7)
    await env.leave(d)
    env.clock.advance(minutes=11)
    await env.leave(amara)
    env.clock.advance(minutes=12)
    bea = await env.join("bea")
    env.clock.advance(minutes=10)
    await group_sessions.end_session(env.svc, env.users["cps"], sid)
    await env.leave(bea)
    await env.leave(cora)
    await session_notes.save_note(
        env.svc,
        env.users["cps"],
        sid,
        topic="Sleep",
        narrative="Shared strategies for night wakings.",
        response="Members engaged; two shared for the first time.",
        plan="Continue next week with returning to work.",
    )
    await session_notes.sign_note(env.svc, env.users["cps"], sid)
    return sid


async def test_billing_export_matches_hand_computed_fixture(env: Env) -> None:
    """8-minute rule: 38 min -> 3 units, 10 -> 1, 7 -> 0; H0038 HQ; names cannot be formulas."""
    await _held_session(env)
    rows = await billing.rows(env.svc, env.users["cps"], env.world.group_id)
    expected = (
        FIXTURE.read_bytes()
        .decode("utf-8")
        .format(amara=env.users["amara"].id, bea=env.users["bea"].id, dana=env.users["dana"].id)
    )
    assert billing.to_csv(rows) == expected


async def test_whole_unit_rule_and_ratio_flag_are_settings(env: Env) -> None:
    """With whole units 38 min is 2 units; with a ratio of 2 a group of 3 is flagged."""
    await _held_session(env)
    env.svc.settings = env.svc.settings.model_copy(
        update={"billing_unit_rule": "whole_units", "facilitator_ratio": 2}
    )
    rows = await billing.rows(env.svc, env.users["admin"], env.world.group_id)
    assert [(r.values["minutes"], r.values["units"]) for r in rows] == [
        ("7", "0"),
        ("38", "2"),
        ("10", "0"),
    ]
    assert {r.values["ratio_exceeded"] for r in rows} == {"yes"}


async def test_billing_is_for_facilitators_and_admins_only(env: Env) -> None:
    """Members, clinicians and other groups' members get NotFound."""
    await _held_session(env)
    for who in ("amara", "clinician", "outsider"):
        with pytest.raises(NotFound):
            await billing.rows(env.svc, env.users[who], env.world.group_id)


async def test_signed_note_cannot_be_edited_only_amended(env: Env) -> None:
    """After signing, edits are refused with a clear message; an addendum is signed too."""
    sid = await _held_session(env)
    with pytest.raises(Conflict) as exc:
        await session_notes.save_note(
            env.svc, env.users["cps"], sid, topic="x", narrative="y", response="z", plan="w"
        )
    assert exc.value.message == (
        "This note is signed and can no longer be edited. Add an addendum to correct it."
    )
    with pytest.raises(Conflict):
        await session_notes.sign_note(env.svc, env.users["cps"], sid)
    env.clock.advance(hours=1)
    add = await session_notes.add_addendum(
        env.svc, env.users["cps"], sid, "Bea joined late because of a feed."
    )
    view = await session_notes.view(env.svc, env.users["clinician"], sid)
    assert view.note is not None and view.note.narrative == "Shared strategies for night wakings."
    assert (view.note.signer_name, view.note.signer_credential) == ("Cora", "CPS")
    assert view.note.signed_at == SESSION_START_UTC.replace(hour=1)
    assert [(a.body, a.signer_credential) for a in view.addenda] == [
        ("Bea joined late because of a feed.", "CPS")
    ]
    assert add.signed_at > view.note.signed_at
    with pytest.raises(NotFound):
        await session_notes.view(env.svc, env.users["amara"], sid)


async def test_signing_needs_a_complete_note_and_a_credential(env: Env) -> None:
    """Rosa has no credential on file; an empty plan cannot be signed."""
    (gs,) = await env.schedule(minutes=60)
    env.clock._now = SESSION_START_UTC
    sid: int = gs.id  # type: ignore[assignment]
    await group_sessions.start_session(env.svc, env.users["facilitator"], sid)
    env.clock.advance(minutes=60)
    await group_sessions.end_session(env.svc, env.users["facilitator"], sid)
    await session_notes.save_note(
        env.svc, env.users["facilitator"], sid, topic="t", narrative="n", response="r", plan=""
    )
    with pytest.raises(InvalidInput, match=r"Please write the plan\."):
        await session_notes.sign_note(env.svc, env.users["facilitator"], sid)
    await session_notes.save_note(
        env.svc, env.users["facilitator"], sid, topic="t", narrative="n", response="r", plan="p"
    )
    with pytest.raises(InvalidInput, match="no credential on file"):
        await session_notes.sign_note(env.svc, env.users["facilitator"], sid)
