"""Session notes: drafted by a facilitator after a session, then signed.

A signed note is never edited again; a correction is an addendum, itself signed with the
author's name, credential and time. This is what a payer's auditor expects of a record.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.errors import Conflict, InvalidInput
from app.services import Services
from app.session_access import managed_session, staff_session
from app.storage import audit
from app.storage import group_sessions as store
from app.storage.tables import GroupSession, NoteAddendum, SessionNote, User

FIELD_MAX_CHARS = 4000
SIGNED = "This note is signed and can no longer be edited. Add an addendum to correct it."


@dataclass(frozen=True)
class NoteView:
    session: GroupSession
    note: SessionNote | None
    addenda: list[NoteAddendum]


def _clean(text: str, label: str, *, required: bool = False) -> str:
    text = text.strip()
    if len(text) > FIELD_MAX_CHARS:
        raise InvalidInput(f"Keep the {label} under {FIELD_MAX_CHARS:,} characters.")
    if required and not text:
        raise InvalidInput(f"Please write the {label}.", code="note_incomplete")
    return text


async def _ended_session(s, actor: User, session_id: int) -> GroupSession:  # type: ignore[no-untyped-def]
    gs = await managed_session(s, actor, session_id)
    if gs.status != "ended":
        raise InvalidInput("A note can be written once the session has ended.", code="not_ended")
    return gs


async def save_note(
    svc: Services,
    actor: User,
    session_id: int,
    *,
    topic: str,
    narrative: str,
    response: str,
    plan: str,
) -> SessionNote:
    """Create or update the draft. Refused once the note is signed."""
    fields = {
        "topic": _clean(topic, "topic")[:200],
        "narrative": _clean(narrative, "narrative"),
        "response": _clean(response, "members' response"),
        "plan": _clean(plan, "plan"),
    }
    now = svc.clock.now()
    async with svc.db.transaction() as s:
        gs = await _ended_session(s, actor, session_id)
        note = await store.note_of_session(s, session_id)
        if note is not None and note.signed_at is not None:
            raise Conflict(SIGNED, code="note_signed")
        if note is None:
            note = SessionNote(session_id=session_id, author_id=actor.id, updated_at=now)  # type: ignore[arg-type]
        for key, value in fields.items():
            setattr(note, key, value)
        note.updated_at = now
        s.add(note)
        await s.flush()
        await audit.record(
            s,
            at=now,
            actor_id=actor.id,
            action="session_note.save",
            target_type="session_note",
            target_id=note.id,
            group_id=gs.group_id,
        )
    return note


async def sign_note(svc: Services, actor: User, session_id: int) -> SessionNote:
    """Sign with the author's display name and credential (User.credential) at this time."""
    now = svc.clock.now()
    async with svc.db.transaction() as s:
        gs = await _ended_session(s, actor, session_id)
        note = await store.note_of_session(s, session_id)
        if note is None:
            raise InvalidInput("Write the note before signing it.", code="note_incomplete")
        if note.signed_at is not None:
            raise Conflict(SIGNED, code="note_signed")
        _clean(note.narrative, "narrative", required=True)
        _clean(note.response, "members' response", required=True)
        _clean(note.plan, "plan", required=True)
        if not actor.credential:
            raise InvalidInput(
                "Your account has no credential on file; an admin must add it before you sign.",
                code="no_credential",
            )
        note.signed_by, note.signed_at = actor.id, now
        note.signer_name, note.signer_credential = actor.display_name, actor.credential
        s.add(note)
        await audit.record(
            s,
            at=now,
            actor_id=actor.id,
            action="session_note.sign",
            target_type="session_note",
            target_id=note.id,
            group_id=gs.group_id,
        )
    return note


async def add_addendum(svc: Services, actor: User, session_id: int, body: str) -> NoteAddendum:
    body = _clean(body, "addendum", required=True)
    now = svc.clock.now()
    async with svc.db.transaction() as s:
        gs = await _ended_session(s, actor, session_id)
        note = await store.note_of_session(s, session_id)
        if note is None or note.signed_at is None:
            raise InvalidInput("Edit the note itself until it is signed.", code="not_signed")
        add = NoteAddendum(
            note_id=note.id,  # type: ignore[arg-type]
            author_id=actor.id,  # type: ignore[arg-type]
            signer_name=actor.display_name,
            signer_credential=actor.credential,
            body=body,
            signed_at=now,
        )
        s.add(add)
        await s.flush()
        await audit.record(
            s,
            at=now,
            actor_id=actor.id,
            action="session_note.addendum",
            target_type="session_note",
            target_id=note.id,
            group_id=gs.group_id,
        )
    return add


async def view(svc: Services, actor: User, session_id: int) -> NoteView:
    """Staff of the group (facilitators, clinicians, admins) may read notes."""
    async with svc.db.transaction() as s:
        gs, _scope = await staff_session(s, actor, session_id)
        note = await store.note_of_session(s, session_id)
        adds = await store.addenda(s, note.id) if note else []  # type: ignore[arg-type]
    return NoteView(gs, note, adds)
