"""Provider settings for the delivery channels: which providers carry a channel for an
estate, in which order, and with which keys.

The seam between the providers (portal.integrations.sms, .email) and where their settings
are kept. Settings live in the database (IntegrationSetting, managed in the enterprise
console and the estate admin's pages, portal.integrations.manage), encrypted at rest
(portal.integrations.keys):

- `providers(channel, estate_id)`: the estate's enabled providers of that channel when it
  has any, else the platform's enabled ones, else configuration: `SMS_PROVIDERS` (a JSON
  list of objects such as `[{"kind": "termii", "api_key": "…", "sender_id": "Gatehouse"}]`)
  for SMS, `MAIL_SERVER` and the other `MAIL_*` settings (one "smtp" provider) for email.
- `record_outcome(setting, estate_id, ok=…, error=…)`: remember a provider's last success
  or failure (for the integration status page), in a short session of its own. The worker
  calls it after each try, outside any request's transaction.
- `pinned(setting_id)`: while a test message from the status page is being delivered,
  `providers` answers that one provider (enabled or not), so the channel's provider code
  needs nothing special for it (portal.integrations.outbox uses it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.integrations import keys
from portal.integrations.kinds import get_kind
from portal.models import IntegrationSetting, utcnow

TEST_REASON = "integration_test"  # the outbox reason of a test message from the status page
MASK = "••••"

_PINNED: ContextVar[int | None] = ContextVar("integration_pinned_setting", default=None)


@dataclass(frozen=True)
class ProviderSettings:
    """One provider of a channel, with its keys (decrypted, never shown back in full)."""

    kind: str  # "termii" | "africastalking" | "twilio" | "http" | "smtp" | …
    values: Mapping[str, str] = field(default_factory=dict)
    scope: str = "config"  # "config" | "platform" | "estate"
    id: int | None = None  # the stored row, when the settings come from the database

    @property
    def label(self) -> str:
        return f"{self.kind}#{self.id}" if self.id is not None else self.kind


def from_configuration(channel: str) -> list[ProviderSettings]:
    """The providers configuration names (SMS_PROVIDERS; MAIL_SERVER and the MAIL_* settings)."""
    config = current_app.config
    if channel == "EMAIL":
        if not config.get("MAIL_SERVER"):
            return []
        return [ProviderSettings(kind="smtp", values={
            "host": str(config["MAIL_SERVER"]), "port": str(config.get("MAIL_PORT") or 25),
            "username": str(config.get("MAIL_USERNAME") or ""), "password": str(config.get("MAIL_PASSWORD") or ""),
            "use_tls": "true" if config.get("MAIL_USE_TLS") else "false",
            "use_ssl": "true" if config.get("MAIL_USE_SSL") else "false",
            "from_address": str(config.get("MAIL_FROM") or config.get("MAIL_DEFAULT_SENDER") or ""),
        })]
    if channel != "SMS":
        return []
    raw = config.get("SMS_PROVIDERS") or []
    if isinstance(raw, str):
        raw = json.loads(raw) if raw.strip() else []
    providers = []
    for item in raw:
        values = {key: str(value) for key, value in dict(item).items() if key != "kind"}
        providers.append(ProviderSettings(kind=str(item["kind"]).lower(), values=values))
    return providers


def _session() -> Session:
    return Session(db.engine, expire_on_commit=False)


def from_row(row: IntegrationSetting) -> ProviderSettings:
    """The row's settings, decrypted (keys.UnreadableValues when no key opens them)."""
    return ProviderSettings(kind=row.kind, values=keys.decrypt(row.values_encrypted),
                            scope="platform" if row.estate_id is None else "estate", id=row.id)


def _readable(rows: list[IntegrationSetting]) -> list[ProviderSettings]:
    result = []
    for row in rows:
        try:
            result.append(from_row(row))
        except keys.UnreadableValues:
            current_app.logger.error("Provider settings %s cannot be decrypted with INTEGRATION_KEYS; skipped", row.id)
    return result


def providers(channel: str, estate_id: int | None) -> list[ProviderSettings]:
    """The providers of `channel` ("SMS", "EMAIL") for an estate (None: platform-wide
    messages), in the order they are tried: the estate's own enabled list when it has
    one, else the platform's, else configuration. (While `pinned`: that one provider.)"""
    pinned_id = _PINNED.get()
    with _session() as session:
        if pinned_id is not None:
            row = session.get(IntegrationSetting, pinned_id)
            return _readable([row]) if row is not None and row.channel == channel else []
        scopes = [IntegrationSetting.estate_id.is_(None)]
        if estate_id is not None:
            scopes.append(IntegrationSetting.estate_id == estate_id)
        rows = list(session.scalars(
            sa.select(IntegrationSetting)
            .where(IntegrationSetting.channel == channel, IntegrationSetting.enabled.is_(True), sa.or_(*scopes))
            .order_by(IntegrationSetting.position, IntegrationSetting.id)))
    own = [row for row in rows if row.estate_id is not None]
    platform = [row for row in rows if row.estate_id is None]
    if own or platform:
        return _readable(own or platform)
    return from_configuration(channel)


@contextmanager
def pinned(setting_id: int | None) -> Iterator[None]:
    """Inside: `providers` answers only this stored provider (None: no pin)."""
    if setting_id is None:
        yield
        return
    token = _PINNED.set(setting_id)
    try:
        yield
    finally:
        _PINNED.reset(token)


def pinned_id() -> int | None:
    return _PINNED.get()


def scrub(error: str, setting: ProviderSettings) -> str:
    """The error without any of the setting's secret values in it (a gateway may echo a
    key back, or an address may carry one)."""
    kind = get_kind(setting.kind)
    secrets = [setting.values.get(name, "") for name in (kind.secret_fields if kind else ())]
    for secret in sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True):
        error = error.replace(secret, MASK)
    return error


def record_outcome(setting: ProviderSettings, estate_id: int | None, *, ok: bool, error: str = "") -> None:
    """Remember a provider's last success or failure, for the integration status page.
    Called by the worker outside any request transaction; a provider from configuration
    is only logged."""
    error = scrub(error, setting)[:2000]
    if ok:
        current_app.logger.info("Provider %s delivered (estate %s)", setting.label, estate_id)
    else:
        current_app.logger.warning("Provider %s failed (estate %s): %s", setting.label, estate_id, error)
    if setting.id is None:
        return
    values = ({"last_success_at": utcnow()} if ok else
              {"last_failure_at": utcnow(), "last_error": error, "last_failure_estate_id": estate_id})
    try:
        with _session() as session:
            session.execute(sa.update(IntegrationSetting).where(IntegrationSetting.id == setting.id)
                            .values(**values, updated_at=IntegrationSetting.updated_at))  # not a change of settings
            session.commit()
    except sa.exc.SQLAlchemyError:  # the message's own outcome matters more than the status page's
        current_app.logger.exception("Could not record the outcome of provider %s", setting.label)
