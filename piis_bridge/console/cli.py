"""``piis-bridge serve`` and ``piis-bridge users add|list|disable|set-role``.

A password never comes from an argument (it would sit in the shell history and in ``ps``): it is
asked twice on the terminal, or read from a file (``--password-file``, e.g. a secret mounted by the
deployment), whose first line is the password.
"""

from __future__ import annotations

import getpass
from pathlib import Path

import typer

__all__ = ["register"]


def _settings():
    from piis_bridge.config import ConfigError, load_settings

    try:
        return load_settings()
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


def _sessions():
    from piis_bridge.db import make_engine, make_sessionmaker
    from piis_bridge.migrations import upgrade_database

    settings = _settings()
    upgrade_database(settings.database_url)
    return make_sessionmaker(make_engine(settings.database_url))


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no login name (a container without a passwd entry)
        return "cli"


def _read_password(password_file: Path | None) -> str:
    if password_file is not None:
        try:
            return password_file.read_text(encoding="utf-8").splitlines()[0]
        except (OSError, IndexError) as exc:
            typer.echo(
                f"--password-file {password_file}: cannot read a password from it "
                f"({exc.__class__.__name__}); "
                "write the password on its first line",
                err=True,
            )
            raise typer.Exit(2) from None
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


def register(cli) -> None:
    @cli.root.command("serve")
    def serve(
        host: str = typer.Option(
            "127.0.0.1", "--host", help="Address to listen on (keep loopback behind a proxy)."
        ),
        port: int = typer.Option(8040, "--port", help="TCP port."),
        proxy_headers: bool = typer.Option(
            True,
            "--proxy-headers/--no-proxy-headers",
            help="Trust X-Forwarded-For/Proto from --forwarded-allow-ips.",
        ),
        forwarded_allow_ips: str = typer.Option(
            "127.0.0.1", "--forwarded-allow-ips", help="The reverse proxy's address(es)."
        ),
    ) -> None:
        """Run the operator console (one ASGI process, uvicorn) on the application database."""
        try:
            import uvicorn

            from piis_bridge.console.app import create_app
        except ImportError as exc:
            typer.echo(
                f"the console needs the 'console' extra ({exc.name} is missing): "
                "pip install 'piis-bridge[console]'",
                err=True,
            )
            raise typer.Exit(2) from None
        from piis_bridge.migrations import upgrade_database

        settings = _settings()
        upgrade_database(settings.database_url)
        uvicorn.run(
            create_app(settings),
            host=host,
            port=port,
            proxy_headers=proxy_headers,
            forwarded_allow_ips=forwarded_allow_ips,
            server_header=False,
            log_level="info",
        )

    users = cli.group("users", help="Accounts of the operator console (piis-bridge serve).")

    @users.command("add")
    def users_add(
        username: str = typer.Argument(...),
        role: str = typer.Option(..., "--role", help="admin, operator or viewer."),
        cpas: list[str] = typer.Option(
            ..., "--cpas", help="A CPAS id this user sees (repeat); '*' for all."
        ),
        password_file: Path | None = typer.Option(
            None, "--password-file", help="Read the password from this file's first line."
        ),
        no_password: bool = typer.Option(
            False,
            "--no-password",
            help="No local password (the account logs in through OpenID Connect).",
        ),
        language: str = typer.Option("fr", "--language", help="fr, nl, de or en."),
        name: str = typer.Option("", "--name", help="Display name."),
    ) -> None:
        """Create an account.  The password is asked on the terminal, or read from --password-file."""
        from piis_bridge.console.accounts import AccountError, add_user

        password = None if no_password else _read_password(password_file)
        with _sessions()() as s:
            try:
                add_user(
                    s,
                    username,
                    password,
                    role,
                    list(cpas),
                    actor=_actor(),
                    display_name=name,
                    language=language,
                )
            except AccountError as exc:
                typer.echo(str(exc), err=True)
                raise typer.Exit(2) from None
            s.commit()
        typer.echo(f"user {username} added ({role}, {', '.join(cpas)})")

    @users.command("list")
    def users_list() -> None:
        """Every account: role, CPAS, language, enabled or not, social worker id."""
        from piis_bridge.console.accounts import list_users

        with _sessions()() as s:
            for u in list_users(s):
                state = "disabled" if u.disabled else "enabled"
                worker = u.worker_id or "-"  # the social worker id (users set-worker)
                typer.echo(
                    f"{u.username}\t{u.role}\t{','.join(u.cpas_ids)}\t{u.language}\t{state}"
                    f"\t{worker}"
                )

    @users.command("disable")
    def users_disable(
        username: str = typer.Argument(...),
        reason: str = typer.Option("", "--reason", help="Kept in the audit log."),
    ) -> None:
        """Disable an account and revoke its open sessions at once."""
        from piis_bridge.console.accounts import AccountError, disable_user

        with _sessions()() as s:
            try:
                disable_user(s, username, actor=_actor(), reason=reason)
            except AccountError as exc:
                typer.echo(str(exc), err=True)
                raise typer.Exit(2) from None
            s.commit()
        typer.echo(f"user {username} disabled; its sessions are revoked")

    @users.command("revoke-sessions")
    def users_revoke(
        username: str = typer.Argument(...),
        reason: str = typer.Option("", "--reason", help="Kept in the audit log."),
    ) -> None:
        """Log a user out everywhere now (a lost laptop); the account stays enabled."""
        from piis_bridge.console.accounts import AccountError, revoke_all

        with _sessions()() as s:
            try:
                n = revoke_all(s, username, actor=_actor(), reason=reason)
            except AccountError as exc:
                typer.echo(str(exc), err=True)
                raise typer.Exit(2) from None
            s.commit()
        typer.echo(f"{n} session(s) of {username} revoked")

    @users.command("set-worker")
    def users_set_worker(
        username: str = typer.Argument(...),
        worker_id: str = typer.Argument(
            ...,
            help="The account's social worker id in the case system (as in the contracts' "
            "social workers); an empty string unlinks it.",
        ),
        reason: str = typer.Option("", "--reason", help="Kept in the audit log."),
    ) -> None:
        """Link an account to its social worker id: the agenda then offers "mine"."""
        from piis_bridge.console.accounts import AccountError, set_worker

        with _sessions()() as s:
            try:
                set_worker(s, username, worker_id, actor=_actor(), reason=reason)
            except AccountError as exc:
                typer.echo(str(exc), err=True)
                raise typer.Exit(2) from None
            s.commit()
        if worker_id.strip():
            typer.echo(f"user {username} is social worker {worker_id.strip()}")
        else:
            typer.echo(f"user {username} is linked to no social worker")

    @users.command("set-role")
    def users_set_role(
        username: str = typer.Argument(...),
        role: str = typer.Argument(..., help="admin, operator or viewer."),
        cpas: list[str] = typer.Option(None, "--cpas", help="Replace the CPAS list (repeat)."),
        reason: str = typer.Option("", "--reason", help="Kept in the audit log."),
    ) -> None:
        """Change an account's role (and CPAS); its open sessions are revoked so the change applies now."""
        from piis_bridge.console.accounts import AccountError, set_role

        with _sessions()() as s:
            try:
                set_role(
                    s, username, role, list(cpas) if cpas else None, actor=_actor(), reason=reason
                )
            except AccountError as exc:
                typer.echo(str(exc), err=True)
                raise typer.Exit(2) from None
            s.commit()
        typer.echo(f"user {username} is now {role}")
