import logging

import click
from flask import Flask, current_app


def register_cli(app: Flask) -> None:
    @app.cli.command("seed-demo")
    def seed_demo_command():
        """Create (or bring up to date) the demo estates and accounts."""
        from portal.demo import seed_demo

        accounts = seed_demo()
        click.echo("Demo data ready. Every password is demo1234.\n")
        width = max(len(a[0]) for a in accounts)
        for login, role, where in accounts:
            click.echo(f"  {login.ljust(width)}  {role:<18} {where}")

    @app.cli.command("expire-approvals")
    def expire_approvals_command():
        """Mark sign-up requests left undecided for 30 days as EXPIRED (and tell the applicants)."""
        _expire_approvals()

    @app.cli.command("expire-walkins")
    def expire_walkins_command():
        """Mark walk-ins nobody answered within 30 minutes as EXPIRED."""
        _expire_walkins()

    @app.cli.command("mark-overdue")
    def mark_overdue_command():
        """Mark issued invoices past their due date (in their estate's time zone) OVERDUE."""
        _mark_overdue()

    @app.cli.command("run-periodic")
    def run_periodic_command():
        """Every expiry step at once, by hand (the worker runs them on its own): expire-approvals,
        expire-walkins, purge-import-previews, mark-overdue."""
        _expire_approvals()
        _expire_walkins()
        _purge_import_previews()
        _mark_overdue()

    @app.cli.command("worker")
    @click.option("--workers", default=2, show_default=True, help="Threads running jobs.")
    @click.option("--no-periodic", is_flag=True, help="Do not schedule the periodic jobs (for extra workers).")
    def worker_command(workers: int, no_periodic: bool):
        """Run the background jobs: message delivery and the periodic steps (until Ctrl-C)."""
        from portal import jobs

        if not logging.getLogger().handlers:
            logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        queue = jobs.get(current_app)
        where = current_app.config["REDIS_URL"] and "Redis" or current_app.config["JOBS_SQLITE_PATH"]
        click.echo(f"Worker: {workers} threads, queue in {where}{'' if no_periodic else ', periodic jobs on'}.")
        queue.run_consumer(workers=workers, periodic=not no_periodic)

    @app.cli.command("purge-import-previews")
    def purge_import_previews_command():
        """Delete the CSV import previews nobody confirmed before they expired."""
        _purge_import_previews()


# Pages only show a request or walk-in past its time as expired; these write it (audited).


def _expire_approvals() -> None:
    from portal.onboarding.approvals import expire_due

    click.echo(f"Expired sign-up requests: {expire_due()}")


def _expire_walkins() -> None:
    from portal.gate.walkins import expire_due
    from portal.models import utcnow

    click.echo(f"Expired walk-ins: {expire_due(utcnow())}")


def _purge_import_previews() -> None:
    from portal.imports.service import purge_expired

    click.echo(f"Expired import previews deleted: {purge_expired()}")


def _mark_overdue() -> None:
    from portal.billing.invoices import mark_overdue

    click.echo(f"Invoices marked overdue: {mark_overdue()}")
