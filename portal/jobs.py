"""Background jobs: a huey queue, made from the app's configuration, and its tasks.

The queue lives in Redis when REDIS_URL is set (any number of app servers and workers),
else in a SQLite file (JOBS_SQLITE_PATH, `instance/jobs.db`: one machine). The web
processes only enqueue; `flask --app wsgi worker` (portal/cli.py) runs the consumer,
which executes the jobs and schedules the periodic ones. Every task runs inside an app
context of the app that made the queue. JOBS_IMMEDIATE runs each job at once in the
caller instead (huey's immediate mode, in memory: unit tests).

Jobs:
- `deliver(message_id)`: one outbox message (portal.integrations.outbox), enqueued by
  the delivery hook after the commit that wrote it (portal.integrations.delivery).
- `generate_invoices(run_id)`: an invoice generation run (portal.billing.generation),
  enqueued by the admin's "Generate" (and "Resume") after the commit that recorded it.
- periodic, in UTC: `sweep_outbox` every minute (retries that are due, rows nobody
  picked up, lapsed claims), `expire_walkins` every minute, `expire_approvals` every
  5 minutes, `purge_import_previews` every 15 minutes, `mark_overdue` every hour (at
  minute 5), `send_reminders` every hour (at minute 15: each estate's payment reminders
  leave with its first run in the estate's daytime, once per invoice and step),
  `remind_bookings` every 15 minutes (the day-before booking reminders,
  portal.amenities.reminders) — the same functions as the `expire-walkins`, `expire-approvals`,
  `purge-import-previews`, `mark-overdue`, `send-reminders` and `remind-bookings` commands. They are
  idempotent (conditional updates), so two workers scheduling them at once do no harm;
  extra workers may still run `--no-periodic`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from flask import Flask
from huey import Huey, RedisHuey, SqliteHuey, crontab

KEY = "portal.jobs"
QUEUE_NAME = "gatehouse"

log = logging.getLogger(__name__)


def create_huey(config: dict) -> Huey:
    immediate = bool(config.get("JOBS_IMMEDIATE"))
    if config.get("REDIS_URL"):
        from redis import ConnectionPool

        # Short timeouts: a lost Redis host must not hold a request's enqueue for long (the
        # sweep sends what could not be enqueued); above the consumer's 1 s blocking read.
        pool = ConnectionPool.from_url(config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=10)
        return RedisHuey(QUEUE_NAME, connection_pool=pool, immediate=immediate, results=False)
    return SqliteHuey(QUEUE_NAME, filename=config["JOBS_SQLITE_PATH"], immediate=immediate, results=False)


# --- what the jobs do (each runs in an app context) ------------------------------------


def deliver_message(message_id: int) -> str:
    from portal.integrations import outbox

    return outbox.deliver(message_id).status


def deliver_messages(message_ids: list[int]) -> str:
    """The messages one transaction committed, one job for all (one enqueue per commit: a
    gate scan's email and SMS to the host cost the request a single queue write)."""
    return ", ".join(f"{message_id}: {deliver_message(message_id)}" for message_id in message_ids)


def expire_walkins() -> int:
    from portal.gate.walkins import expire_due
    from portal.models import utcnow

    return expire_due(utcnow())


def expire_approvals() -> int:
    from portal.onboarding.approvals import expire_due

    return expire_due()


def purge_import_previews() -> int:
    from portal.imports.service import purge_expired

    return purge_expired()


def generate_invoices(run_id: int) -> str:
    from portal.billing.generation import execute_run

    run = execute_run(run_id)
    return f"run {run_id}: {run.status if run else 'gone'}"


def mark_overdue() -> int:
    from portal.billing.invoices import mark_overdue as mark

    return mark()


def send_reminders() -> int:
    from portal.billing.reminders import send_reminders as send

    return send()


def remind_bookings() -> int:
    from portal.amenities.reminders import send_reminders

    return send_reminders()


class Jobs:
    """The app's queue and its tasks (`app.extensions["portal.jobs"]`)."""

    def __init__(self, app: Flask, huey: Huey):
        self.app = app
        self.huey = huey
        self.deliver = huey.task(name="deliver_message")(self._in_app(deliver_message))
        self.deliver_all = huey.task(name="deliver_messages")(self._in_app(deliver_messages))
        self.sweep_outbox = huey.periodic_task(crontab(minute="*"), name="sweep_outbox")(
            self._in_app(self._sweep_outbox))
        self.expire_walkins = huey.periodic_task(crontab(minute="*"), name="expire_walkins")(
            self._in_app(expire_walkins))
        self.expire_approvals = huey.periodic_task(crontab(minute="*/5"), name="expire_approvals")(
            self._in_app(expire_approvals))
        self.purge_import_previews = huey.periodic_task(crontab(minute="*/15"), name="purge_import_previews")(
            self._in_app(purge_import_previews))
        self.generate_invoices = huey.task(name="generate_invoices")(self._in_app(generate_invoices))
        self.mark_overdue = huey.periodic_task(crontab(minute="5"), name="mark_overdue")(
            self._in_app(mark_overdue))
        self.send_reminders = huey.periodic_task(crontab(minute="15"), name="send_reminders")(
            self._in_app(send_reminders))
        self.remind_bookings = huey.periodic_task(crontab(minute="*/15"), name="remind_bookings")(
            self._in_app(remind_bookings))

    def _in_app(self, func: Callable) -> Callable:
        @functools.wraps(func)
        def run(*args, **kwargs):
            with self.app.app_context():
                result = func(*args, **kwargs)
                if result:
                    self.app.logger.info("Job %s: %s", func.__name__, result)
                return result

        return run

    def _sweep_outbox(self) -> int:
        from portal.integrations import outbox
        from portal.models import utcnow

        due = outbox.sweep(utcnow())
        for message_id in due:
            self.deliver(message_id)
        return len(due)

    def run_consumer(self, workers: int = 2, periodic: bool = True) -> None:
        """Run the consumer in this process until SIGINT (graceful) or SIGTERM."""
        if self.huey.immediate:
            raise RuntimeError("JOBS_IMMEDIATE is on: jobs run in the caller; there is nothing to consume.")
        # An idle consumer polls the queue at most a second apart (huey's default backs off to
        # 10 s), so a message waits no longer than that on the SQLite queue; Redis blocks.
        consumer = self.huey.create_consumer(workers=workers, worker_type="thread", periodic=periodic,
                                             check_worker_health=True, max_delay=1.0)
        consumer.run()


def init_app(app: Flask) -> Jobs:
    jobs = Jobs(app, create_huey(app.config))
    app.extensions[KEY] = jobs
    return jobs


def get(app: Flask) -> Jobs:
    return app.extensions[KEY]
