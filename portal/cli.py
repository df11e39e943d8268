"""The `portal` command. Every sub-command takes --json for machine-readable output."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import msgspec

from portal.settings import SettingsError, load_settings

if TYPE_CHECKING:
    from portal.runtime import Runtime

Handler = Callable[[argparse.Namespace], Awaitable[dict[str, Any]]]


def _emit(args: argparse.Namespace, result: dict[str, Any], text: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(msgspec.to_builtins(result), indent=2, default=str))
    else:
        print(text)


async def _with_runtime(work: Callable[[Runtime], Awaitable[Any]], *, migrate_first: bool = False) -> Any:
    """Open the database, build the services the server uses, and run ``work`` (after the migrations)."""
    from portal.db import close_engine, connect, open_engine
    from portal.db.migrate import migrate
    from portal.runtime import build_runtime

    settings = load_settings()
    engine = connect(settings.database_url)
    await open_engine(engine)
    try:
        report = await migrate(engine) if migrate_first else []
        result = await work(build_runtime(settings))
        return (report, result) if migrate_first else result
    finally:
        await close_engine(engine)


def cmd_migrate(args: argparse.Namespace) -> int:
    from controls import CatalogError

    async def prepare(runtime: Runtime) -> Any:
        # A fresh installation gets the published baseline catalog, so providers can file against it at
        # once, and a signing key per purpose, so the JWKS is complete before anything is signed.
        runtime.keys.ensure_all()
        await runtime.keys.log_unlogged()  # the first key of each purpose is a `key` entry of the log
        await runtime.registry.fill_missing()  # attestations issued before the registry's read model existed
        return await runtime.catalogs.ensure_baseline()

    try:
        report, baseline = asyncio.run(_with_runtime(prepare, migrate_first=True))
    except CatalogError as exc:
        print(f"error: the built-in baseline catalog is not valid: {exc}", file=sys.stderr)
        return 2
    migrated = f"database migrated: applied {len(report)} migrations" if report else "database is up to date"
    text = "\n".join([migrated, f"baseline catalog: {baseline.message}"])
    _emit(args, {"ok": True, "applied": report, "baseline": baseline}, text)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = load_settings()  # fail here, before workers start, if settings are wrong
    if not settings.production:
        # Development answers on the port it serves, whatever PORTAL_ISSUER says (the workers inherit this).
        served = [f"{name}:{args.port}" for name in ("127.0.0.1", "localhost")]
        os.environ["PORTAL_ALLOWED_HOSTS"] = ",".join([*settings.allowed_hosts, *served])
    uvicorn.run(
        "portal.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        log_level=settings.log_level.lower(),
        server_header=False,
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from portal.demo import seed_demo

    result = asyncio.run(_with_runtime(lambda runtime: seed_demo(runtime, only_if_empty=args.if_empty)))
    _emit(args, result, result["text"])
    return 0


def cmd_users_create(args: argparse.Namespace) -> int:
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else ""
    if not password:
        print("error: give the password on standard input with --password-stdin", file=sys.stderr)
        return 2
    result = asyncio.run(_with_runtime(lambda runtime: _create_user(runtime, args, password)))
    lines = [f"created {result['user']['email']} ({result['user']['role']}) in {result['user']['organisation_name']}"]
    if result.get("totp_secret"):
        lines.append(f"TOTP secret (add it to an authenticator app now; shown once): {result['totp_secret']}")
    _emit(args, result, "\n".join(lines))
    return 0


async def _create_user(runtime: Runtime, args: argparse.Namespace, password: str) -> dict[str, Any]:
    import uuid

    from portal.domain.context import SYSTEM
    from portal.errors import InvalidInput
    from portal.security.principal import REGULATOR_ROLES, Role

    try:
        role = Role(args.role)
    except ValueError:
        raise InvalidInput(f"unknown role {args.role}; one of: {', '.join(r.value for r in Role)}") from None
    if args.org:
        organisation_id = uuid.UUID(args.org)
    elif role in REGULATOR_ROLES:
        organisation_id = await runtime.organisations.regulator_organisation()
    else:
        raise InvalidInput("provider roles need --org ID")
    user, seed = await runtime.accounts.create_user(
        SYSTEM,
        email=args.email,
        role=role,
        organisation_id=organisation_id,
        password=password,
        display_name=args.name or "",
    )
    return {"user": msgspec.to_builtins(user), "totp_secret": seed}


def cmd_users_list(args: argparse.Namespace) -> int:
    async def work(runtime: Runtime) -> list[Any]:
        import uuid

        from portal.domain.context import SYSTEM
        from portal.errors import InvalidInput

        try:
            organisation_id = uuid.UUID(args.org) if args.org else None
        except ValueError:
            raise InvalidInput(f"--org takes an organisation id, not {args.org!r}") from None
        return await runtime.members.list_users(SYSTEM, organisation_id)

    users = msgspec.to_builtins(asyncio.run(_with_runtime(work)))
    lines = [
        f"{u['email']}\t{u['role']}\t{u['state']}\t{u['organisation_name']} ({u['organisation_id']})" for u in users
    ]
    _emit(args, {"users": users}, "\n".join(lines) or "no users")
    return 0


def _member_change(change: str) -> Callable[[argparse.Namespace], int]:
    """``portal users deactivate|reactivate|set-role|reset-totp --email E``: the operator, under the same rules
    as an organisation's admin (the last active admin stays), audited as the system."""

    def command(args: argparse.Namespace) -> int:
        async def work(runtime: Runtime) -> Any:
            from portal.domain.context import SYSTEM
            from portal.errors import InvalidInput
            from portal.security.principal import Role

            member = await runtime.members.find(SYSTEM, args.email)
            org, user = member.organisation_id, member.id
            if change == "set-role":
                try:
                    role = Role(args.role)
                except ValueError:
                    raise InvalidInput(
                        f"unknown role {args.role}; one of: {', '.join(r.value for r in Role)}"
                    ) from None
                return await runtime.members.set_role(SYSTEM, org, user, role)
            if change == "deactivate":
                return await runtime.members.deactivate(SYSTEM, org, user)
            if change == "reactivate":
                return await runtime.members.reactivate(SYSTEM, org, user)
            return await runtime.members.reset_second_factor(SYSTEM, org, user)

        user = msgspec.to_builtins(asyncio.run(_with_runtime(work)))
        text = f"{user['email']}: {user['role']}, {user['state']}"
        if change == "reset-totp":
            text += " (second factor cleared: a new one is set up at the next password login)"
        _emit(args, {"user": user}, text)
        return 0

    return command


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from portal.domain.audit.services import verify_chain

    report = asyncio.run(_with_runtime(lambda _: verify_chain()))
    text = f"{report.events} events, head {report.head}: " + ("chain intact" if report.ok else "TAMPERED")
    last = report.last_anchor
    text += "\n" + (
        "no audit-anchor in the transparency log yet"
        if last is None
        else f"{report.anchors} audit-anchor(s) in the transparency log checked; the last, log entry "
        f"{last['index']}, anchors event {last['seq']}"
    )
    _emit(args, msgspec.to_builtins(report), "\n".join([text, *report.problems]))
    return 0 if report.ok else 1


def cmd_log_verify(args: argparse.Namespace) -> int:
    report = asyncio.run(_with_runtime(lambda runtime: runtime.log.verify()))
    head = (
        f"{report.size} entries, {report.nodes} nodes, {report.checkpoints} checkpoints, root {report.root}, "
        f"latest checkpoint {report.checkpoint_size}"
    )
    text = f"{head}: " + ("consistent" if report.ok else f"{len(report.problems)} INCONSISTENCIES")
    _emit(args, msgspec.to_builtins(report), "\n".join([text, *report.problems]))
    return 0 if report.ok else 1


def cmd_monitor(args: argparse.Namespace) -> int:
    """Follow a portal's log from outside: HTTP only, no settings and no database."""
    from pathlib import Path

    from attestations.errors import AttestationError
    from attestations.monitor import Monitor, load_state, save_state, summary

    state_path = Path(args.state) if args.state else None
    try:
        saved = load_state(state_path) if state_path else None
        report, state = Monitor(args.url).run(saved, full=args.full, settle=args.settle)
    except AttestationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if state_path is not None and state is not None:
        save_state(state_path, state)
    _emit(args, msgspec.to_builtins(report), summary(report))
    return 0 if report.ok else 1


def cmd_catalogs_import(args: argparse.Namespace) -> int:
    from pathlib import Path

    import controls
    from portal.domain.context import SYSTEM
    from portal.errors import InvalidInput

    # Read and validate the whole file before touching the database: a bad file writes nothing.
    try:
        if args.format == "oscal":
            try:
                data = Path(args.file).read_bytes()
            except OSError as exc:
                raise controls.CatalogError(f"cannot read file: {exc.strerror or exc}", source=args.file) from exc
            catalog = controls.from_oscal(data, source=args.file, catalog_id=args.id, version=args.version)
        else:
            catalog = controls.load_catalog(args.file)
    except controls.CatalogError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    try:
        result = asyncio.run(
            _with_runtime(lambda runtime: runtime.catalogs.import_catalog(SYSTEM, catalog, publish=args.publish))
        )
    except InvalidInput as exc:
        hint = " (choose one with --id or --version)" if exc.extra.get("field") in ("id", "version") else ""
        print(f"{args.file}: $.{exc.extra.get('field', '')}: {exc.detail}{hint}", file=sys.stderr)
        return 2
    _emit(args, msgspec.to_builtins(result), result.message)
    return 0


def cmd_catalogs_export(args: argparse.Namespace) -> int:
    import controls

    view = asyncio.run(_with_runtime(lambda runtime: runtime.catalogs.stored_catalog(args.id, args.version)))
    if args.format == "oscal":
        sys.stdout.write(json.dumps(controls.to_oscal(view.catalog), indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.buffer.write(controls.encode_catalog(view.catalog))
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    from attestations.keys import KeyPurpose
    from portal.domain.context import SYSTEM

    result = asyncio.run(_with_runtime(lambda runtime: runtime.keys.rotate(SYSTEM, KeyPurpose(args.purpose))))
    retired = f", retired {result.retired_kid}" if result.retired_kid else ""
    _emit(args, msgspec.to_builtins(result), f"new {result.purpose} key {result.new_kid}{retired}")
    return 0


def cmd_evidence_sweep(args: argparse.Namespace) -> int:
    result = asyncio.run(_with_runtime(lambda runtime: runtime.evidence.sweep()))
    text = f"removed {result['temporaries']} abandoned upload(s) and {result['orphans']} unrecorded file(s)"
    _emit(args, result, text)
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="portal", description="Provider Attestation Portal")
    sub = root.add_subparsers(dest="command", required=True)

    def command(
        name: str, handler: Callable[[argparse.Namespace], int], helptext: str, parent: Any = sub
    ) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = parent.add_parser(name, help=helptext)
        p.add_argument("--json", action="store_true", help="machine-readable output")
        p.set_defaults(handler=handler)
        return p

    serve = command("serve", cmd_serve, "serve the portal over HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    command("migrate", cmd_migrate, "apply database migrations")
    # Listed for --help only: main() hands `portal verify ...` to the offline verifier's own parser.
    sub.add_parser("verify", help="verify an attestation token or certificate PDF offline (portal verify --help)")
    demo = command("demo", cmd_demo, "seed demonstration data")
    demo.add_argument("--if-empty", action="store_true", help="only when the database has no organisations")

    users = sub.add_parser("users", help="manage users").add_subparsers(dest="users_command", required=True)
    create = command("create", cmd_users_create, "create a user", parent=users)
    create.add_argument("--email", required=True)
    create.add_argument("--role", required=True)
    create.add_argument("--org", help="organisation id (regulator roles default to the regulator organisation)")
    create.add_argument("--name", help="display name")
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")

    listing = command("list", cmd_users_list, "list accounts with their role and state", parent=users)
    listing.add_argument("--org", help="only this organisation's accounts")
    for name, helptext in (
        ("deactivate", "deactivate an account and end its sessions and API tokens"),
        ("reactivate", "reactivate a deactivated account"),
        ("set-role", "change an account's role and end its sessions and API tokens"),
        ("reset-totp", "clear a lost second factor; the user sets up a new one at the next login"),
    ):
        changer = command(name, _member_change(name), helptext, parent=users)
        changer.add_argument("--email", required=True)
        if name == "set-role":
            changer.add_argument("--role", required=True)

    audit = sub.add_parser("audit", help="audit trail").add_subparsers(dest="audit_command", required=True)
    command("verify", cmd_audit_verify, "check the hash chain of the audit trail", parent=audit)

    log = sub.add_parser("log", help="transparency log").add_subparsers(dest="log_command", required=True)
    command(
        "verify",
        cmd_log_verify,
        "recompute every leaf and stored node, and the latest checkpoint's root and signature",
        parent=log,
    )

    monitor = command(
        "monitor",
        cmd_monitor,
        "follow a portal's transparency log over HTTP and compare it with what the portal publishes",
    )
    monitor.add_argument("--url", required=True, help="the portal's base URL, e.g. https://portal.example")
    monitor.add_argument("--state", help="JSON file keeping the last checkpoint seen (read, then updated)")
    monitor.add_argument("--full", action="store_true", help="re-read and replay every entry, not only new ones")
    monitor.add_argument(
        "--settle", type=float, default=2.0, help="seconds to wait before re-checking a disagreement (default 2)"
    )

    keys = sub.add_parser("keys", help="signing keys").add_subparsers(dest="keys_command", required=True)
    rotate = command("rotate", cmd_keys_rotate, "retire the active key of a purpose and make a new one", parent=keys)
    rotate.add_argument("--purpose", required=True, choices=["attestation", "status", "log"])

    evidence = sub.add_parser("evidence", help="evidence storage").add_subparsers(
        dest="evidence_command", required=True
    )
    command(
        "sweep",
        cmd_evidence_sweep,
        "remove dead uploads' temporaries and stored files no record uses (safe while serving)",
        parent=evidence,
    )

    catalogs = sub.add_parser("catalogs", help="control catalogs").add_subparsers(
        dest="catalogs_command", required=True
    )
    load = command(
        "import", cmd_catalogs_import, "store a catalog version (a published one never changes)", parent=catalogs
    )
    load.add_argument("file", help="a native catalog (.toml or .json) or an OSCAL catalog JSON file")
    load.add_argument("--format", choices=["native", "oscal"], default="native")
    load.add_argument("--publish", action="store_true", help="publish it at once (otherwise it stays a draft)")
    load.add_argument("--id", help="OSCAL only: the catalog id to store it under (default: from the document)")
    load.add_argument("--version", help="OSCAL only: the version to store it under (default: metadata.version)")
    export = command("export", cmd_catalogs_export, "print a stored catalog version", parent=catalogs)
    export.add_argument("id")
    export.add_argument("version")
    export.add_argument("--format", choices=["native", "oscal"], default="native")
    return root


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["verify"]:
        # The offline verifier needs no settings and no database.
        from attestations.cli import main as verify_main

        return verify_main(argv)
    args = parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        from portal.errors import PortalError

        if isinstance(exc, PortalError):
            print(f"error: {exc.detail}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
