"""The operator console: ``piis-bridge serve`` (Starlette + Jinja2 + htmx, on the application database).

Modules: ``models`` (accounts, sessions, login attempts, append-only audit), ``accounts`` (argon2
passwords, sessions, rate limiting, roles and CPAS scopes), ``audit`` (the one writer of the audit
log), ``queries`` (every read of the pipeline's, ledger's and transfer's tables, as typed results),
``actions`` (replay and dismiss, through the pipeline's own functions), ``app`` (the ASGI app),
``i18n`` (French, Dutch, English), ``cli`` (``serve`` and ``users``).  See docs/console.md.

Importing this package imports nothing of the web stack, so the migrations see the tables even
where the ``console`` extra is not installed.
"""
