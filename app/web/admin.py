"""The organisation admin's page: groups, invites, staff accounts and assignments."""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app import accounts, groups
from app.errors import VillageError
from app.web.auth import check_csrf, services, signed_in
from app.web.render import page


async def _admin(request: Request) -> accounts.SignedIn:
    who = await signed_in(request)
    groups.require_admin(who.user)
    return who


async def admin_page(
    request: Request, *, error: str = "", flash: str = "", status: int = 200
) -> Response:
    who = await _admin(request)
    svc = services(request)
    overview = await groups.org_overview(svc, who.user)
    from app.storage import accounts as account_store

    async with svc.db.transaction() as s:
        users = await account_store.users_of_org(s, who.user.org_id)
    return page(
        request,
        "admin.html",
        overview=overview,
        users=users,
        error=error,
        flash=flash,
        status=status,
        now=svc.clock.now(),
        public_url=svc.settings.public_url.rstrip("/"),
    )


async def _act(request: Request, action) -> Response:  # type: ignore[no-untyped-def]
    who = await _admin(request)
    form = await check_csrf(request, who)
    try:
        flash = await action(services(request), who.user, form)
    except VillageError as exc:
        return await admin_page(request, error=exc.message, status=exc.status)
    return await admin_page(request, flash=flash or "Saved.")


def _gid(request: Request) -> int:
    return int(request.path_params["group_id"])


async def create_group(request: Request) -> Response:
    async def do(svc, user, form):  # type: ignore[no-untyped-def]
        g = await groups.create_group(
            svc,
            user,
            name=form.get("name", ""),
            description=form.get("description", ""),
            agreements=form.get("agreements", ""),
        )
        return f"Group “{g.name}” created."

    return await _act(request, do)


async def update_agreements(request: Request) -> Response:
    async def do(svc, user, form):  # type: ignore[no-untyped-def]
        g = await groups.update_agreements(svc, user, _gid(request), form.get("agreements", ""))
        return f"Agreements saved (version {g.agreements_version})."

    return await _act(request, do)


async def create_invite(request: Request) -> Response:
    async def do(svc, user, form):  # type: ignore[no-untyped-def]
        token = await groups.create_invite(
            svc,
            user,
            _gid(request),
            role=form.get("role", "member"),
            valid_hours=int(form.get("valid_hours") or 72),
            single_use=form.get("single_use") == "on",
        )
        return f"Invite link (shown once): {svc.settings.public_url.rstrip('/')}/invite/{token}"

    return await _act(request, do)


async def assign(request: Request) -> Response:
    async def do(svc, user, form):  # type: ignore[no-untyped-def]
        await groups.assign(svc, user, _gid(request), form.get("email", ""), form.get("role", ""))
        return "Assigned."

    return await _act(request, do)


async def create_staff(request: Request) -> Response:
    async def do(svc, user, form):  # type: ignore[no-untyped-def]
        password = form.get("password") or secrets.token_urlsafe(12)
        await accounts.create_user(
            svc,
            org_id=user.org_id,
            email=form.get("email", ""),
            display_name=form.get("display_name", ""),
            password=password,
            credential=form.get("credential", ""),
            actor_id=user.id,
        )
        return f"Account created. Temporary password (shown once): {password}"

    return await _act(request, do)


async def deactivate(request: Request) -> Response:
    async def do(svc, user, form):  # type: ignore[no-untyped-def]
        await accounts.set_active(svc, user, int(request.path_params["user_id"]), False)
        return "Account deactivated; its sessions and open rooms were closed."

    return await _act(request, do)


async def remove_member(request: Request) -> Response:
    async def do(svc, user, form):  # type: ignore[no-untyped-def]
        await groups.remove_member(svc, user, _gid(request), int(request.path_params["user_id"]))
        return "Removed from the group."

    return await _act(request, do)


routes = [
    Route("/admin", admin_page),
    Route("/admin/groups", create_group, methods=["POST"]),
    Route("/admin/groups/{group_id:int}/agreements", update_agreements, methods=["POST"]),
    Route("/admin/groups/{group_id:int}/invites", create_invite, methods=["POST"]),
    Route("/admin/groups/{group_id:int}/assign", assign, methods=["POST"]),
    Route(
        "/admin/groups/{group_id:int}/members/{user_id:int}/remove", remove_member, methods=["POST"]
    ),
    Route("/admin/users", create_staff, methods=["POST"]),
    Route("/admin/users/{user_id:int}/deactivate", deactivate, methods=["POST"]),
]
