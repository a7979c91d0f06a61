"""python -m app {serve,migrate,demo,create-admin,report}"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys

from app.settings import Settings

log = logging.getLogger("village")


def _services(settings: Settings):  # type: ignore[no-untyped-def]
    from app.services import offline_services

    return offline_services(settings)


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    workers = args.workers or settings.workers
    if settings.broker_url.startswith("memory://") and workers > 1:
        log.warning(
            "the in-process broker (memory://) cannot fan out across workers: "
            "running 1 worker instead of %d. Set VILLAGE_BROKER_URL=redis://… "
            "to run several.",
            workers,
        )
        workers = 1
    if settings.broker_url.startswith("memory://"):
        log.info("broker memory:// — single worker")
    uvicorn.run(
        "app.factory:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=workers,
        ws="websockets-sansio",
        ws_max_size=settings.ws_hard_max_bytes,
        ws_per_message_deflate=settings.ws_per_message_deflate,
        log_level=settings.log_level,
        proxy_headers=True,
    )
    return 0


def cmd_migrate(settings: Settings, _: argparse.Namespace) -> int:
    from app.migrate import upgrade

    upgrade(settings.database_url)
    print("database is up to date")
    return 0


def cmd_demo(settings: Settings, _: argparse.Namespace) -> int:
    from app.demo import seed

    async def run() -> list[tuple[str, str, str]]:
        svc = _services(settings)
        try:
            return await seed(svc)
        finally:
            await svc.db.aclose()

    logins = asyncio.run(run())
    print("\nDemo logins (open http://127.0.0.1:8000/login):")
    for role, email, password in logins:
        print(f"  {role:<12} {email:<28} {password}")
    print()
    return 0


def cmd_create_admin(settings: Settings, args: argparse.Namespace) -> int:
    from app import accounts, groups

    password = args.password or getpass.getpass("Password for the new admin: ")

    async def run() -> None:
        svc = _services(settings)
        try:
            org = await groups.ensure_org(svc, args.org)
            await accounts.create_user(
                svc,
                org_id=org.id,
                email=args.email,  # type: ignore[arg-type]
                display_name=args.name,
                password=password,
                is_admin=True,
            )
        finally:
            await svc.db.aclose()

    from app.errors import VillageError

    try:
        asyncio.run(run())
    except VillageError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    print(f"admin {args.email} created")
    return 0


def cmd_report(settings: Settings, args: argparse.Namespace) -> int:
    import json

    from app import report

    async def run() -> dict:  # type: ignore[type-arg]
        svc = _services(settings)
        try:
            return await report.build(svc)
        finally:
            await svc.db.aclose()

    data = asyncio.run(run())
    print(json.dumps(data, indent=2) if args.json else report.render(data))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app", description="Village server")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the web server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=0, help="default: VILLAGE_WORKERS")
    sub.add_parser("migrate", help="create or upgrade the database schema")
    sub.add_parser("demo", help="create a demo organisation and print its logins")
    admin = sub.add_parser("create-admin", help="create an organisation admin")
    admin.add_argument("--email", required=True)
    admin.add_argument("--name", default="Admin")
    admin.add_argument("--org", default="Village")
    admin.add_argument("--password", help="default: asked for")
    rep = sub.add_parser("report", help="escalation figures: latency, counts, false alarms")
    rep.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    try:
        settings = Settings()
    except Exception as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s %(message)s"
    )
    handler = {
        "serve": cmd_serve,
        "migrate": cmd_migrate,
        "demo": cmd_demo,
        "create-admin": cmd_create_admin,
        "report": cmd_report,
    }[args.command]
    return handler(settings, args)


if __name__ == "__main__":
    sys.exit(main())
