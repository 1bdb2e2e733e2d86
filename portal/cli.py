import logging

import click
from flask import Flask, current_app
from flask.cli import AppGroup


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

    @app.cli.command("send-reminders")
    def send_reminders_command():
        """Send the payment reminders due today (whatever the hour; each once per invoice and step)."""
        _send_reminders()

    @app.cli.command("remind-bookings")
    def remind_bookings_command():
        """Send the day-before reminders of the amenity bookings starting within 24 hours."""
        from portal.amenities.reminders import send_reminders

        click.echo(f"Reminded {send_reminders()} booking(s).")

    @app.cli.command("run-periodic")
    def run_periodic_command():
        """Every expiry step at once, by hand (the worker runs them on its own): expire-approvals,
        expire-walkins, purge-import-previews, mark-overdue (not the reminders: send-reminders)."""
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

    integrations = AppGroup("integrations", help="The SMS and email provider settings kept in the database.")

    @integrations.command("rotate-keys")
    def rotate_keys_command():
        """Encrypt every stored provider setting again with the first key of INTEGRATION_KEYS
        (put the new key first, keep the old ones after it, run this, then drop them)."""
        from portal.integrations.manage import rotate_keys

        rotated, unreadable = rotate_keys()
        click.echo(f"Provider settings encrypted with the first key: {rotated}")
        if unreadable:
            raise click.ClickException(
                f"No key of INTEGRATION_KEYS opens the settings {', '.join(map(str, unreadable))}: add the key "
                "they were encrypted with, or enter them again in the portal.")

    app.cli.add_command(integrations)

    push_group = AppGroup("push", help="Web push notifications.")

    @push_group.command("generate-vapid-keys")
    def generate_vapid_keys_command():
        """Print a new VAPID key pair for web push (set both, with VAPID_SUBJECT, in the environment).
        Changing the pair later turns notifications off on every device (each must turn them on again)."""
        from portal.integrations import push

        public, private = push.generate_keys()
        click.echo(f"VAPID_PUBLIC_KEY={public}")
        click.echo(f"VAPID_PRIVATE_KEY={private}")

    app.cli.add_command(push_group)

    @app.cli.command("purge-import-previews")
    def purge_import_previews_command():
        """Delete the CSV import previews nobody confirmed before they expired."""
        _purge_import_previews()

    @app.cli.command("clean-uploads")
    @click.option("--dry-run", is_flag=True, help="Change nothing; say what would be cleaned.")
    def clean_uploads_command(dry_run: bool):
        """Remove the metadata (a phone's GPS position, camera serial, time) from the images kept
        before uploads were cleaned: amenity photos, payment proofs, incident photos, logos. Once
        after upgrading; safe to run again."""
        _clean_uploads(dry_run)

    @app.cli.command("fake-flutterwave")
    @click.option("--webhook-url", default=None,
                  help="Where to POST charge.completed (default: PUBLIC_BASE_URL or http://127.0.0.1:5000, "
                       "+ /webhooks/flutterwave).")
    @click.option("--webhook-times", default=1, show_default=True, help="Deliveries of each webhook (idempotency demo).")
    def fake_flutterwave_command(webhook_url: str | None, webhook_times: int):
        """DEV mode only: a local fake Flutterwave at FLUTTERWAVE_BASE_URL (make run starts it)."""
        _fake_flutterwave(webhook_url, webhook_times)


def _fake_flutterwave(webhook_url: str | None, webhook_times: int) -> None:
    from urllib.parse import urlsplit

    config = current_app.config
    base = urlsplit(config["FLUTTERWAVE_BASE_URL"])
    if config["ENV_NAME"] == "production" or not config["DEV_MODE"]:
        raise click.ClickException("The fake Flutterwave runs in DEV mode only.")
    if base.scheme != "http" or base.hostname not in ("127.0.0.1", "localhost"):
        click.echo(f"FLUTTERWAVE_BASE_URL is {config['FLUTTERWAVE_BASE_URL']}: payments go there; "
                   "the fake Flutterwave is not started.")
        return
    from portal.devtools.fake_flutterwave import FakeFlutterwave

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    public = (config.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000").rstrip("/")
    fake = FakeFlutterwave(
        secret_key=config["FLUTTERWAVE_SECRET_KEY"], secret_hash=config["FLUTTERWAVE_SECRET_HASH"],
        webhook_url=webhook_url or f"{public}/webhooks/flutterwave", webhook_times=webhook_times,
    )
    port = base.port or 80
    click.echo(f"Fake Flutterwave on http://{base.hostname}:{port} (webhooks to {fake.webhook_url}).")
    fake.serve_forever(base.hostname or "127.0.0.1", port)


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


def _send_reminders() -> None:
    from portal.billing.reminders import send_reminders

    click.echo(f"Invoices reminded: {send_reminders(any_hour=True)}")


PROGRESS_EVERY = 100  # images


def _clean_uploads(dry_run: bool) -> None:
    from portal.uploads import Item, Outcome, clean_stored_images

    seen = 0
    notes = {Outcome.MISSING: "missing (its row has no bytes): nothing to clean",
             Outcome.UNREADABLE: "not a readable image: left as it is"}

    def progress(item: Item, outcome: Outcome) -> None:
        nonlocal seen
        seen += 1
        if outcome in notes:
            click.echo(f"  {item}: {notes[outcome]}")
        elif dry_run and outcome is Outcome.CLEANED:
            click.echo(f"  {item}: carries metadata, would be cleaned")
        if seen % PROGRESS_EVERY == 0:
            click.echo(f"{seen} images checked…")

    click.echo("Dry run: nothing will be changed." if dry_run else "Cleaning the stored images…")
    report = clean_stored_images(dry_run=dry_run, progress=progress)
    counts = report.counts
    skipped = counts[Outcome.NOT_AN_IMAGE] + counts[Outcome.UNREADABLE]
    click.echo(f"{report.total} images checked. "
               f"{'Would clean' if dry_run else 'Cleaned'}: {counts[Outcome.CLEANED]}; "
               f"already clean: {counts[Outcome.ALREADY_CLEAN]}; "
               f"skipped: {skipped} ({counts[Outcome.NOT_AN_IMAGE]} PDF, {counts[Outcome.UNREADABLE]} unreadable); "
               f"missing: {counts[Outcome.MISSING]}.")
