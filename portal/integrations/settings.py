"""Provider settings for the delivery channels: which providers carry a channel for an
estate, in which order, and with which keys.

The seam between the providers (portal.integrations.sms, .email) and where their settings
are kept. Today the settings come from configuration only: `SMS_PROVIDERS`, a JSON list
of objects such as `[{"kind": "termii", "api_key": "…", "sender_id": "Gatehouse"}]`,
tried in order. The integration-keys work keeps them in the database instead (set by
enterprise admins platform-wide, optionally overridden per estate, encrypted at rest),
falling back to configuration, behind the same two functions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask import current_app


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


def _configured(channel: str) -> list[ProviderSettings]:
    if channel != "SMS":
        return []
    raw = current_app.config.get("SMS_PROVIDERS") or []
    if isinstance(raw, str):
        raw = json.loads(raw) if raw.strip() else []
    providers = []
    for item in raw:
        values = {key: str(value) for key, value in dict(item).items() if key != "kind"}
        providers.append(ProviderSettings(kind=str(item["kind"]).lower(), values=values))
    return providers


def providers(channel: str, estate_id: int | None) -> list[ProviderSettings]:
    """The providers of `channel` ("SMS", "EMAIL") for an estate (None: platform-wide
    messages), in the order they are tried: the estate's own list when it has one, else
    the platform's, else configuration."""
    return _configured(channel)


def record_outcome(setting: ProviderSettings, estate_id: int | None, *, ok: bool, error: str = "") -> None:
    """Remember a provider's last success or failure, for the integration status page.
    Called by the worker outside any request transaction. Today: logged only."""
    if ok:
        current_app.logger.info("Provider %s delivered (estate %s)", setting.label, estate_id)
    else:
        current_app.logger.warning("Provider %s failed (estate %s): %s", setting.label, estate_id, error)
