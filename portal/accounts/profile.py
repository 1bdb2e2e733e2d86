"""The signed-in user's own profile and notification preferences."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from portal import audit
from portal.errors import InvalidValue
from portal.extensions import db
from portal.models import Approval, Estate, Membership, Role, User
from portal.phones import InvalidPhone, normalise_phone
from portal.text import strip_bidi_controls

REQUIRED = _l("This field is required.")

# --- own profile ----------------------------------------------------------------

NOTIFICATION_EVENTS = {
    "visitor_arrived": _l("A visitor of mine arrives"),
    "walk_in_request": _l("A walk-in visitor asks to see me"),
    "invoice_issued": _l("An invoice is issued to my unit"),
    "payment_reminder": _l("A bill of my unit is due soon or overdue"),
    "payment_received": _l("A payment of mine is received"),
    "booking_decided": _l("A booking of mine is approved, declined or cancelled"),
    "announcement": _l("The estate makes an announcement"),
    "approval_decided": _l("A sign-up request is decided"),
}
# "push": to the devices where the user turned notifications on (portal.accounts.push_subscriptions).
NOTIFICATION_CHANNELS = {"email": _l("Email"), "sms": _l("SMS"), "push": _l("Push")}
DEFAULT_SMS = frozenset({"visitor_arrived", "walk_in_request"})  # events sent by SMS unless declined

# The part of the portal that sends each event. A preference is offered only for a part
# that exists: billing and announcements add theirs to LIVE_FEATURES when they land.
EVENT_FEATURES = {
    "visitor_arrived": "visits", "walk_in_request": "visits", "invoice_issued": "billing",
    "payment_reminder": "billing",
    "payment_received": "payments", "booking_decided": "amenities", "announcement": "announcements",
    "approval_decided": "onboarding",
}
LIVE_FEATURES = frozenset({"visits", "onboarding", "billing", "payments", "amenities"})
# Events only a resident of a unit receives.
RESIDENT_EVENTS = frozenset({"visitor_arrived", "walk_in_request", "invoice_issued", "payment_reminder",
                             "payment_received", "booking_decided"})


def offered_events(user: User) -> list[str]:
    """The events this user can receive, so can choose how: those of the parts of the
    portal that exist, a resident's own only for residents, and the answer to a sign-up
    request only for someone who asked to join (two queries)."""
    roles = set(db.session.scalars(sa.select(Membership.role).where(Membership.user_id == user.id)))
    applied = db.session.scalar(sa.select(Approval.id).where(Approval.user_id == user.id).limit(1)) is not None
    offered = []
    for event in NOTIFICATION_EVENTS:
        if EVENT_FEATURES[event] not in LIVE_FEATURES:
            continue
        if event in RESIDENT_EVENTS and Role.RESIDENT not in roles:
            continue
        if event == "approval_decided" and not applied:
            continue
        offered.append(event)
    return offered


def notification_prefs(user: User) -> dict[str, dict[str, bool]]:
    """The user's choices for every event and channel, defaults filled in."""
    stored = user.notification_prefs or {}
    prefs = {}
    for event in NOTIFICATION_EVENTS:
        chosen = stored.get(event) or {}
        prefs[event] = {
            "email": bool(chosen.get("email", True)),
            "sms": bool(chosen.get("sms", event in DEFAULT_SMS)),
            "push": bool(chosen.get("push", True)),  # turning a device on is the choice
        }
    return prefs


def event_channels(user: User, event: str) -> dict[str, bool]:
    """For the senders: the user's choice of each channel for `event` (defaults filled in)."""
    chosen = (user.notification_prefs or {}).get(event) or {}
    return {"email": bool(chosen.get("email", True)), "sms": bool(chosen.get("sms", event in DEFAULT_SMS)),
            "push": bool(chosen.get("push", True))}


def wants_notification(user: User, event: str, channel: str) -> bool:
    """For the senders: does `user` want `event` by `channel` ("email", "sms" or "push")?"""
    return notification_prefs(user).get(event, {}).get(channel, False)


def update_notification_prefs(user: User, chosen: dict[str, dict[str, bool]],
                              offered: list[str] | None = None) -> None:
    """Save the choices for the `offered` events (all by default); the others keep theirs."""
    before = notification_prefs(user)
    offered_set = set(NOTIFICATION_EVENTS if offered is None else offered)
    after = {
        event: ({channel: bool((chosen.get(event) or {}).get(channel)) for channel in NOTIFICATION_CHANNELS}
                if event in offered_set else before[event])
        for event in NOTIFICATION_EVENTS
    }
    if after == before:
        return
    user.notification_prefs = after
    audit.record("user.notifications_changed", user, actor_id=user.id, before=before, after=after)
    db.session.commit()


@dataclass
class ProfileData:
    full_name: str
    email: str | None
    phone: str | None
    preferred_language: str


def _profile_snapshot(user: User) -> dict:
    return {"full_name": user.full_name, "email": user.email, "phone": user.phone,
            "preferred_language": user.preferred_language}


def phone_region(user: User) -> str:
    """The region for numbers typed without a country code: the user's estate's country."""
    country = db.session.scalar(
        sa.select(Estate.country).join(Membership, Membership.estate_id == Estate.id)
        .where(Membership.user_id == user.id).order_by(Membership.id).limit(1)
    )
    return country or "NG"


EMAIL_TAKEN = _l("Another account already uses this email address.")
PHONE_TAKEN = _l("Another account already uses this phone number.")


def _email_taken(email: str, user_id: int) -> bool:
    return db.session.scalar(
        sa.select(User.id).where(sa.func.lower(User.email) == email.lower(), User.id != user_id)
    ) is not None


def _phone_taken(phone: str, user_id: int) -> bool:
    return db.session.scalar(sa.select(User.id).where(User.phone == phone, User.id != user_id)) is not None


def update_profile(user: User, data: ProfileData) -> User:
    name = strip_bidi_controls(data.full_name).strip()
    if not name:
        raise InvalidValue("full_name", REQUIRED)
    email = (data.email or "").strip() or None
    phone = None
    if (data.phone or "").strip():
        try:
            phone = normalise_phone(data.phone, phone_region(user))
        except InvalidPhone as exc:
            raise InvalidValue("phone", _l("Enter a valid phone number, for example +234 800 000 0201.")) from exc
    if not email and not phone:
        raise InvalidValue("email", _l("Keep an email address or a phone number: you sign in with one of them."))
    if email and _email_taken(email, user.id):
        raise InvalidValue("email", EMAIL_TAKEN)
    if phone and _phone_taken(phone, user.id):
        raise InvalidValue("phone", PHONE_TAKEN)
    if data.preferred_language not in current_app.config["LANGUAGES"]:
        raise InvalidValue("preferred_language", _l("Choose one of the languages offered."))
    before = _profile_snapshot(user)
    user.full_name, user.email, user.phone = name, email, phone
    user.preferred_language = data.preferred_language
    after = _profile_snapshot(user)
    if after == before:
        return user
    audit.record("user.profile_updated", user, actor_id=user.id, before=before, after=after)
    try:
        db.session.commit()
    except IntegrityError as exc:  # the same email or phone saved by someone else just now
        db.session.rollback()
        if email and _email_taken(email, user.id):
            raise InvalidValue("email", EMAIL_TAKEN) from exc
        raise InvalidValue("phone", PHONE_TAKEN) from exc
    return user
