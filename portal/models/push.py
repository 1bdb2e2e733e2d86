"""Web push subscriptions: one row per browser (phone, tablet) that turned notifications on."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, TimestampMixin, UTCDateTime


class PushSubscription(TimestampMixin, Base):
    """A browser's push subscription (the Push API's PushSubscription): the push service's
    `endpoint` URL and the browser's keys that encrypt each message (`p256dh`, `auth`).

    The user turned notifications on in that browser, from a page of `estate_id` (None:
    a page outside any estate). Removed when the user turns them off, or when the push
    service answers 404/410 (the browser dropped it)."""

    __tablename__ = "push_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    estate_id: Mapped[int | None] = mapped_column(sa.ForeignKey("estate.id", ondelete="SET NULL"), index=True)
    endpoint: Mapped[str] = mapped_column(sa.String(1024), unique=True)
    p256dh: Mapped[str] = mapped_column(sa.String(128))  # the browser's P-256 public key, base64url
    auth: Mapped[str] = mapped_column(sa.String(64))  # the 16-byte auth secret, base64url
    device_label: Mapped[str] = mapped_column(sa.String(120), default="", server_default="")
    user_agent: Mapped[str] = mapped_column(sa.String(300), default="", server_default="")
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failure_count: Mapped[int] = mapped_column(default=0, server_default="0")  # since the last success
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
