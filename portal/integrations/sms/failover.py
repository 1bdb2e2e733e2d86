"""The outbox's SMS provider: the estate's providers, tried in order within one attempt.

The first provider that accepts the message wins: the outbox records its label as the
message's provider. Each provider's success or failure goes to the settings seam
(`record_outcome`, for the integration status page). When every provider fails, one
ProviderError lists each provider's error; it is permanent only when every error was (so
a 401 from one provider and an outage at another is retried with the outbox's backoff).

No provider configured: in DEV mode the outbox row is the delivery (`OutboxOnly`, the
code on screen); outside DEV mode the message fails at once (`NotConfigured`).

One instance serves one message (the outbox makes one per delivery): `name` says which
provider delivered it, or which failed.
"""

from __future__ import annotations

from flask import current_app

from portal.integrations import settings
from portal.integrations.outbox import NotConfigured, OutboxOnly, ProviderError
from portal.integrations.sms import client_for
from portal.models import Estate, OutboxMessage

NAME_LENGTH = 40  # outbox_message.provider


class FailoverSms:
    name = "SMS"

    def send(self, message: OutboxMessage, estate: Estate | None) -> str:
        configured = settings.providers("SMS", message.estate_id)
        if not configured:
            fallback = OutboxOnly() if current_app.config.get("DEV_MODE") else NotConfigured("SMS")
            self.name = fallback.name
            return fallback.send(message, estate)
        failures: list[tuple[str, str, bool]] = []
        for setting in configured:
            try:
                provider_id = client_for(setting).send(message.recipient, message.body)
            except ProviderError as exc:
                error, permanent = str(exc) or type(exc).__name__, exc.permanent
            except Exception as exc:  # a bug or an unexpected answer: the next provider may still deliver
                current_app.logger.exception("SMS provider %s raised", setting.label)
                error, permanent = f"{type(exc).__name__}: {exc}", False
            else:
                _record(setting, message.estate_id, ok=True)
                self.name = setting.label[:NAME_LENGTH]
                return provider_id
            current_app.logger.warning("SMS %s by %s failed: %s", message.id, setting.label, error)
            _record(setting, message.estate_id, ok=False, error=error)
            failures.append((setting.label, error, permanent))
        self.name = ", ".join(label for label, _, _ in failures)[:NAME_LENGTH]
        raise ProviderError("; ".join(f"{label}: {error}" for label, error, _ in failures),
                            permanent=all(permanent for _, _, permanent in failures))


def _record(setting: settings.ProviderSettings, estate_id: int | None, *, ok: bool, error: str = "") -> None:
    try:
        settings.record_outcome(setting, estate_id, ok=ok, error=error)
    except Exception:  # the status page's bookkeeping never decides a delivery
        current_app.logger.exception("Recording the outcome of SMS provider %s failed", setting.label)
