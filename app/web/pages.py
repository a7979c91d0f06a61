"""HTML pages for members and staff."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app import accounts, groups, schedule
from app.access import enter_room
from app.errors import AgreementsRequired, InvalidInput, NotFound, RateLimited
from app.web.auth import (
    check_csrf,
    clear_session_cookie,
    client_address,
    maybe_signed_in,
    services,
    set_session_cookie,
    signed_in,
)
from app.web.render import page


def _safe_next(target: str | None) -> str:
    # Only local paths: never redirect a mother to another site after sign-in.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/groups"


async def home(request: Request) -> Response:
    who = await maybe_signed_in(request)
    return RedirectResponse("/groups" if who else "/login", 303)


async def login_page(request: Request) -> Response:
    return page(request, "login.html", next=request.query_params.get("next", ""))


async def login_submit(request: Request) -> Response:
    form = await check_csrf(request)
    svc = services(request)
    try:
        token, _ = await accounts.login(
            svc, form.get("email", ""), form.get("password", ""), client_address(request)
        )
    except (InvalidInput, RateLimited) as exc:
        return page(
            request,
            "login.html",
            status=exc.status,
            error=exc.message,
            email=form.get("email", ""),
            next=form.get("next", ""),
        )
    response = RedirectResponse(_safe_next(form.get("next")), 303)
    set_session_cookie(response, svc, token)
    return response


async def logout(request: Request) -> Response:
    who = await signed_in(request)
    await check_csrf(request, who)
    await accounts.logout(services(request), who)
    response = RedirectResponse("/login", 303)
    clear_session_cookie(response)
    return response


async def invite_page(request: Request) -> Response:
    svc = services(request)
    token = request.path_params["token"]
    _, group = await groups.open_invite(svc, token)
    who = await maybe_signed_in(request)
    return page(
        request,
        "invite.html",
        group=group,
        token=token,
        user=who.user if who else None,
        notice=groups.CONFIDENTIALITY_NOTICE,
    )


async def invite_submit(request: Request) -> Response:
    svc = services(request)
    token = request.path_params["token"]
    who = await maybe_signed_in(request)
    form = await check_csrf(request, who)
    _, group = await groups.open_invite(svc, token)
    if who is not None:
        await groups.redeem_invite(svc, token, user=who.user)
        return RedirectResponse(f"/groups/{group.id}", 303)
    try:
        if form.get("password") != form.get("password2"):
            raise InvalidInput("The two passwords do not match.")
        await groups.redeem_invite(
            svc,
            token,
            email=form.get("email", ""),
            display_name=form.get("display_name", ""),
            password=form.get("password", ""),
        )
        session_token, _ = await accounts.login(
            svc, form.get("email", ""), form.get("password", ""), client_address(request)
        )
    except InvalidInput as exc:
        return page(
            request,
            "invite.html",
            status=400,
            group=group,
            token=token,
            error=exc.message,
            form=form,
            notice=groups.CONFIDENTIALITY_NOTICE,
        )
    response = RedirectResponse(f"/groups/{group.id}", 303)
    set_session_cookie(response, svc, session_token)
    return response


async def my_groups(request: Request) -> Response:
    who = await signed_in(request)
    mine = await groups.my_groups(services(request), who.user)
    return page(request, "groups.html", groups=mine)


async def group_page(request: Request) -> Response:
    who = await signed_in(request)
    mine = await groups.my_group(services(request), who.user, int(request.path_params["group_id"]))
    upcoming = await schedule.upcoming_lines(services(request), who.user, mine.group.id)  # type: ignore[arg-type]
    return page(
        request, "group.html", mg=mine, notice=groups.CONFIDENTIALITY_NOTICE, upcoming=upcoming
    )


async def accept_agreements(request: Request) -> Response:
    who = await signed_in(request)
    await check_csrf(request, who)
    group_id = int(request.path_params["group_id"])
    await groups.accept_agreements(services(request), who.user, group_id)
    mine = await groups.my_group(services(request), who.user, group_id)
    return RedirectResponse(f"/rooms/{mine.room_id}", 303)


async def room_page(request: Request) -> Response:
    who = await signed_in(request)
    svc = services(request)
    try:
        access = await enter_room(svc, who.user, int(request.path_params["room_id"]))
    except AgreementsRequired:
        room_group = await _group_of_room_for(request, who)
        return RedirectResponse(f"/groups/{room_group}", 303)
    return page(request, "room.html", access=access, settings=svc.settings)


async def _group_of_room_for(request: Request, who: accounts.SignedIn) -> int:
    room_id = int(request.path_params["room_id"])
    for mg in await groups.my_groups(services(request), who.user):
        if mg.room_id == room_id:
            return mg.group.id  # type: ignore[return-value]
    raise NotFound()


routes = [
    Route("/", home),
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login_submit, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/invite/{token}", invite_page, methods=["GET"]),
    Route("/invite/{token}", invite_submit, methods=["POST"]),
    Route("/groups", my_groups),
    Route("/groups/{group_id:int}", group_page),
    Route("/groups/{group_id:int}/accept", accept_agreements, methods=["POST"]),
    Route("/rooms/{room_id:int}", room_page),
]
