"""The audit trail as people read it: each recorded action as a translated sentence
("Sule Garba's gate device was linked to their account"), a short name for the filter,
and the raw record's values formatted for people (times in the estate's zone, lists of
visitors as names). Every action that portal/ records has an entry in SENTENCES
(tests/test_polish_admin.py finds them all in the source and fails on a missing one)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal import labels
from portal.audit.browse import AuditRow
from portal.web.i18n import LANGUAGE_NAMES, datetime_filter

Extras = Callable[[dict, dict], dict]


def _none(_before: dict, _after: dict) -> dict:
    return {}


def _gate(_before: dict, after: dict) -> dict:
    return {"gate": after.get("gate") or _("the gate")}


def _count_file(_before: dict, after: dict) -> dict:
    return {"count": after.get("count", 0), "filename": after.get("filename") or "CSV"}


def _count(_before: dict, after: dict) -> dict:
    return {"count": after.get("count", 0)}


def _reason(_before: dict, after: dict) -> dict:
    return {"reason": after.get("reason") or "—"}


def _device(before: dict, after: dict) -> dict:
    return {"device": after.get("device") or before.get("device") or "—"}


def _language(_before: dict, after: dict) -> dict:
    code = after.get("language") or ""
    return {"language": LANGUAGE_NAMES.get(code, code)}


def _role(_before: dict, after: dict) -> dict:
    role = after.get("role")
    label = {r.value: text for r, text in labels.ROLE_LABELS.items()}.get(role, role or "—")
    return {"role": label}


def _code(_before: dict, after: dict) -> dict:
    return {"code": after.get("join_code") or "—"}


def _card(_before: dict, after: dict) -> dict:
    return {"card": after.get("card_number") or "—"}


def _kind(_before: dict, after: dict) -> dict:
    kind = after.get("incident_type")
    label = {k.value: text for k, text in labels.INCIDENT_TYPE_LABELS.items()}.get(kind, kind or "—")
    return {"kind": label, "gate": after.get("gate") or _("the gate")}


# action → (sentence, the values it needs from before/after). %(actor)s is who acted
# ("The system" when nobody did), %(target)s what the target is called.
SENTENCES: dict[str, tuple] = {
    # visitors' passes and the gate
    "visit.created": (_l("%(actor)s invited %(target)s"), _none),
    "visit.updated": (_l("%(actor)s changed the pass of %(target)s"), _none),
    "visit.extended": (_l("%(actor)s extended the pass of %(target)s to %(until)s"), None),
    "visit.cancelled": (_l("%(actor)s cancelled the pass of %(target)s"), _none),
    "visit.revoked": (_l("%(actor)s revoked the pass of %(target)s"), _none),
    "visit.entered": (_l("%(actor)s let %(target)s in at %(gate)s"), _gate),
    "visit.exited": (_l("%(actor)s recorded %(target)s leaving at %(gate)s"), _gate),
    "walk_in.created": (_l("%(actor)s announced walk-in visitor %(target)s at %(gate)s"), _gate),
    "walk_in.approved": (_l("%(actor)s let walk-in visitor %(target)s in"), _none),
    "walk_in.declined": (_l("%(actor)s turned walk-in visitor %(target)s away"), _none),
    "walk_in.cancelled": (_l("%(actor)s withdrew the walk-in request for %(target)s"), _none),
    "walk_in.expired": (_l("Nobody answered the walk-in request for %(target)s in time"), _none),
    "gate.offline_event_rejected": (
        _l("A scan %(actor)s made offline was refused: it was outside the device's offline window"), _none),
    "incident.logged": (_l("%(actor)s logged an incident (%(kind)s) at %(gate)s"), _kind),
    "ban.created": (_l("%(actor)s banned %(target)s"), _none),
    "ban.lifted": (_l("%(actor)s lifted the ban on %(target)s"), _none),
    "frequent_visitor.saved": (_l("%(actor)s saved %(target)s as a frequent visitor"), _none),
    "frequent_visitor.removed": (_l("%(actor)s removed %(target)s from their frequent visitors"), _none),
    # units and households
    "unit.created": (_l("%(actor)s added unit %(target)s"), _none),
    "unit.updated": (_l("%(actor)s changed unit %(target)s"), _none),
    "unit.archived": (_l("%(actor)s archived unit %(target)s"), _none),
    "unit.restored": (_l("%(actor)s restored unit %(target)s"), _none),
    "units.imported": (_l("%(actor)s imported %(count)s units from %(filename)s"), _count_file),
    "residents.imported": (_l("%(actor)s imported %(count)s residents from %(filename)s"), _count_file),
    "resident.added": (_l("%(actor)s added %(target)s to a household"), _none),
    "resident.updated": (_l("%(actor)s changed the details of %(target)s"), _none),
    "resident.moved_out": (_l("%(actor)s recorded that %(target)s moved out"), _none),
    "vehicle.added": (_l("%(actor)s added vehicle %(target)s"), _none),
    "vehicle.removed": (_l("%(actor)s removed vehicle %(target)s"), _none),
    "access_card.requested": (_l("%(actor)s asked for an access card"), _none),
    "access_card.issued": (_l("%(actor)s issued access card %(card)s"), _card),
    "access_card.deactivated": (_l("%(actor)s deactivated access card %(target)s"), _none),
    # people, invitations and join requests
    "invitation.created": (_l("%(actor)s invited %(target)s to join as %(role)s"), _role),
    "invitation.resent": (_l("%(actor)s sent the invitation of %(target)s again"), _none),
    "invitation.revoked": (_l("%(actor)s withdrew the invitation of %(target)s"), _none),
    "invitation.accepted": (_l("%(actor)s accepted the invitation"), _none),
    "approval.requested": (_l("%(target)s asked to join the estate"), _none),
    "approval.approved": (_l("%(actor)s approved the request of %(target)s to join"), _none),
    "approval.rejected": (_l("%(actor)s declined the request of %(target)s to join"), _none),
    "approval.expired": (_l("The request of %(target)s to join expired unanswered"), _none),
    "approval.existing_account": (
        _l("Someone tried to join with the email or phone of an existing account (%(target)s)"), _none),
    "membership.roles_changed": (_l("%(actor)s changed the roles of %(target)s"), _none),
    "membership.removed": (_l("%(actor)s removed %(target)s from the estate"), _none),
    "user.created": (_l("The account of %(target)s was created"), _none),
    "user.suspended": (_l("%(actor)s suspended the account of %(target)s"), _none),
    "user.reactivated": (_l("%(actor)s reactivated the account of %(target)s"), _none),
    "user.restored": (_l("%(actor)s restored the account of %(target)s"), _none),
    "user.deleted": (_l("%(actor)s deleted the account of %(target)s"), _none),
    "user.profile_updated": (_l("%(actor)s updated their profile"), _none),
    "user.notifications_changed": (_l("%(actor)s changed their notification choices"), _none),
    "user.language_changed": (_l("%(actor)s switched the language to %(language)s"), _language),
    "notification.read": (_l("%(actor)s read a notification"), _none),
    "notification.all_read": (_l("%(actor)s marked every notification as read"), _none),
    # guards' devices and sign-in
    "guard.device_bound": (_l("The gate device of %(target)s was linked to their account"), _none),
    "guard.device_reset": (_l("%(actor)s unlinked the gate device of %(target)s"), _none),
    "kiosk.token_issued": (_l("%(actor)s connected a gate kiosk (device %(device)s)"), _device),
    "kiosk.token_revoked": (_l("%(actor)s disconnected a gate kiosk"), _none),
    "auth.sign_in": (_l("%(actor)s signed in"), _none),
    "auth.code_requested": (_l("%(actor)s asked for a sign-in code"), _none),
    "auth.session_revoked": (_l("%(actor)s signed out a device (%(device)s)"), _device),
    "auth.signed_out_everywhere": (_l("%(actor)s signed out on every device"), _none),
    "auth.password_changed": (_l("%(actor)s changed their password"), _none),
    "auth.password_reset_requested": (_l("A link to choose a new password was sent to %(target)s"), _none),
    "auth.password_reset_refused": (
        _l("A new password was asked for an account that cannot sign in; no link was sent"), _none),
    "auth.password_reset": (_l("%(actor)s chose a new password with an emailed link"), _none),
    # the estate
    "estate.created": (_l("%(actor)s created the estate %(target)s"), _none),
    "estate.suspended": (_l("%(actor)s suspended the estate %(target)s"), _none),
    "estate.reactivated": (_l("%(actor)s reactivated the estate %(target)s"), _none),
    "estate.settings_changed": (_l("%(actor)s changed the estate's settings"), _none),
    "estate.profile_changed": (_l("%(actor)s changed the estate's profile"), _none),
    "estate.join_code_assigned": (_l("%(actor)s gave the estate the join code %(code)s"), _code),
    # guards asking to use another device
    "guard.device_change_requested": (_l("%(actor)s asked to use another gate device"), _none),
    "guard.device_change_approved": (_l("%(actor)s let %(target)s use another gate device"), _none),
    # billing
    "charge.created": (_l("%(actor)s added the charge %(target)s"), _none),
    "charge.updated": (_l("%(actor)s changed the charge %(target)s"), _none),
    "charge.disabled": (_l("%(actor)s stopped billing the charge %(target)s"), _none),
    "charge.enabled": (_l("%(actor)s started billing the charge %(target)s again"), _none),
    "charge.deleted": (_l("%(actor)s deleted the charge %(target)s"), _none),
    "unit_charge.created": (_l("%(actor)s added a one-off charge (%(target)s)"), _none),
    "unit_charge.cancelled": (_l("%(actor)s cancelled a one-off charge (%(target)s)"), _none),
    "billing.settings_updated": (_l("%(actor)s changed the billing settings"), _none),
    "billing.generation_started": (_l("%(actor)s started making the invoices of a period"), _none),
    "billing.generation_resumed": (_l("%(actor)s resumed making the invoices of a period"), _none),
    "billing.generation_finished": (_l("The invoices of a period were made"), _none),
    "invoice.voided": (_l("%(actor)s voided the invoice %(target)s"), _none),
    "invoice.marked_overdue": (_l("Unpaid invoices past their due date were marked overdue"), _none),
    "payment.created": (_l("%(actor)s started paying online (%(target)s)"), _none),
    "payment.failed": (_l("An online payment (%(target)s) did not go through"), _none),
    "payment.applied": (_l("A payment (%(target)s) was applied to invoices"), _none),
    "billing.dues_settings_updated": (_l("%(actor)s changed the payment reminders and dues restrictions"), _none),
    "invoice.reminders_sent": (_l("Payment reminders were sent for %(count)s invoices"), _count),
    "dues_override.granted": (_l("%(actor)s lifted the dues restriction of unit %(target)s: %(reason)s"), _reason),
    "dues_override.ended": (_l("%(actor)s ended the lifting of the dues restriction of unit %(target)s"), _none),
    "payment.recorded": (_l("%(actor)s recorded a payment (%(target)s)"), _none),
    "payment.reported": (_l("%(actor)s reported a bank transfer (%(target)s)"), _none),
    "payment.confirmed": (_l("%(actor)s confirmed a reported transfer (%(target)s)"), _none),
    "payment.rejected": (_l("%(actor)s rejected a reported transfer (%(target)s)"), _none),
    # amenities and bookings
    "amenity.created": (_l("%(actor)s added the amenity %(target)s"), _none),
    "amenity.updated": (_l("%(actor)s changed the amenity %(target)s"), _none),
    "amenity.opened": (_l("%(actor)s opened %(target)s for bookings"), _none),
    "amenity.closed": (_l("%(actor)s closed %(target)s for bookings"), _none),
    "amenity.closure_added": (_l("%(actor)s closed %(target)s for a while"), _none),
    "amenity.closure_removed": (_l("%(actor)s removed a closure of %(target)s"), _none),
    "amenity.photo_added": (_l("%(actor)s added a photo of %(target)s"), _none),
    "amenity.photo_removed": (_l("%(actor)s removed a photo of %(target)s"), _none),
    "booking.created": (_l("%(actor)s booked %(target)s"), _none),
    "booking.requested": (_l("%(actor)s asked to book %(target)s"), _none),
    "booking.approved": (_l("%(actor)s approved the booking %(target)s"), _none),
    "booking.rejected": (_l("%(actor)s declined the booking %(target)s"), _none),
    "booking.cancelled": (_l("%(actor)s cancelled the booking %(target)s"), _none),
    "booking.cancelled_by_admin": (_l("%(actor)s cancelled the booking %(target)s for the resident"), _none),
    "booking.completed": (_l("%(actor)s marked the booking %(target)s completed"), _none),
    "booking.no_show": (_l("%(actor)s marked the booking %(target)s as a no-show"), _none),
    "booking.reminded": (_l("A reminder of the booking %(target)s was sent"), _none),
    # message providers, messages, notifications on devices
    "integration.created": (_l("%(actor)s added a message provider (%(target)s)"), _none),
    "integration.updated": (_l("%(actor)s changed a message provider (%(target)s)"), _none),
    "integration.enabled": (_l("%(actor)s turned on a message provider (%(target)s)"), _none),
    "integration.disabled": (_l("%(actor)s turned off a message provider (%(target)s)"), _none),
    "integration.moved": (_l("%(actor)s changed the order of the message providers"), _none),
    "integration.deleted": (_l("%(actor)s deleted a message provider (%(target)s)"), _none),
    "integration.test_sent": (_l("%(actor)s sent a test message through a message provider"), _none),
    "integration.keys_rotated": (_l("The message providers' keys were encrypted again with a new key"), _none),
    "message.resent": (_l("%(actor)s sent a failed message again"), _none),
    "push.subscribed": (_l("%(actor)s turned on notifications on a device"), _none),
    "push.subscription_renewed": (_l("%(actor)s renewed notifications on a device"), _none),
    "push.unsubscribed": (_l("%(actor)s turned off notifications on a device"), _none),
    "push.device_removed": (_l("%(actor)s removed a device from their notifications"), _none),
    "push.subscription_dropped": (_l("A device that no longer takes notifications was removed"), _none),
    # operators' commands
    "uploads.metadata_removed": (_l("The metadata (such as a phone's GPS position) was removed from %(count)s "
                                    "images kept before uploads were cleaned"), _count),
}

# The short name of each action, for the filter (a sentence without its people).
ACTION_NAMES: dict[str, object] = {
    "visit.created": _l("Pass created"), "visit.updated": _l("Pass changed"), "visit.extended": _l("Pass extended"),
    "visit.cancelled": _l("Pass cancelled"), "visit.revoked": _l("Pass revoked"),
    "visit.entered": _l("Entry recorded"), "visit.exited": _l("Exit recorded"),
    "walk_in.created": _l("Walk-in announced"), "walk_in.approved": _l("Walk-in let in"),
    "walk_in.declined": _l("Walk-in turned away"), "walk_in.cancelled": _l("Walk-in withdrawn"),
    "walk_in.expired": _l("Walk-in unanswered"), "gate.offline_event_rejected": _l("Offline scan refused"),
    "incident.logged": _l("Incident logged"), "ban.created": _l("Ban added"), "ban.lifted": _l("Ban lifted"),
    "frequent_visitor.saved": _l("Frequent visitor saved"), "frequent_visitor.removed": _l("Frequent visitor removed"),
    "unit.created": _l("Unit added"), "unit.updated": _l("Unit changed"), "unit.archived": _l("Unit archived"),
    "unit.restored": _l("Unit restored"), "units.imported": _l("Units imported"),
    "residents.imported": _l("Residents imported"), "resident.added": _l("Household member added"),
    "resident.updated": _l("Household member changed"), "resident.moved_out": _l("Moved out"),
    "vehicle.added": _l("Vehicle added"), "vehicle.removed": _l("Vehicle removed"),
    "access_card.requested": _l("Access card requested"), "access_card.issued": _l("Access card issued"),
    "access_card.deactivated": _l("Access card deactivated"), "invitation.created": _l("Invitation sent"),
    "invitation.resent": _l("Invitation sent again"), "invitation.revoked": _l("Invitation withdrawn"),
    "invitation.accepted": _l("Invitation accepted"), "approval.requested": _l("Join request"),
    "approval.approved": _l("Join request approved"), "approval.rejected": _l("Join request declined"),
    "approval.expired": _l("Join request expired"), "approval.existing_account": _l("Join with an existing account"),
    "membership.roles_changed": _l("Roles changed"), "membership.removed": _l("Removed from the estate"),
    "user.created": _l("Account created"), "user.suspended": _l("Account suspended"),
    "user.reactivated": _l("Account reactivated"), "user.restored": _l("Account restored"),
    "user.deleted": _l("Account deleted"), "user.profile_updated": _l("Profile updated"),
    "user.notifications_changed": _l("Notification choices changed"), "user.language_changed": _l("Language changed"),
    "notification.read": _l("Notification read"), "notification.all_read": _l("All notifications read"),
    "guard.device_bound": _l("Gate device linked"), "guard.device_reset": _l("Gate device unlinked"),
    "kiosk.token_issued": _l("Kiosk connected"), "kiosk.token_revoked": _l("Kiosk disconnected"),
    "auth.sign_in": _l("Signed in"), "auth.code_requested": _l("Sign-in code asked for"),
    "auth.session_revoked": _l("Device signed out"), "auth.signed_out_everywhere": _l("Signed out everywhere"),
    "auth.password_changed": _l("Password changed"), "auth.password_reset_requested": _l("Password link sent"),
    "auth.password_reset_refused": _l("Password link refused"), "auth.password_reset": _l("Password reset"),
    "estate.created": _l("Estate created"), "estate.suspended": _l("Estate suspended"),
    "estate.reactivated": _l("Estate reactivated"), "estate.settings_changed": _l("Settings changed"),
    "estate.profile_changed": _l("Estate profile changed"), "estate.join_code_assigned": _l("Join code set"),
    "guard.device_change_requested": _l("Device change asked for"),
    "guard.device_change_approved": _l("Device change approved"),
    "charge.created": _l("Charge added"), "charge.updated": _l("Charge changed"),
    "charge.disabled": _l("Charge stopped"), "charge.enabled": _l("Charge billed again"),
    "charge.deleted": _l("Charge deleted"), "unit_charge.created": _l("One-off charge added"),
    "unit_charge.cancelled": _l("One-off charge cancelled"), "billing.settings_updated": _l("Billing settings changed"),
    "billing.generation_started": _l("Invoices being made"), "billing.generation_resumed": _l("Invoicing resumed"),
    "billing.generation_finished": _l("Invoices made"), "invoice.voided": _l("Invoice voided"),
    "invoice.marked_overdue": _l("Invoices overdue"), "payment.applied": _l("Payment applied"),
    "billing.dues_settings_updated": _l("Reminders and restrictions changed"),
    "invoice.reminders_sent": _l("Payment reminders sent"), "dues_override.granted": _l("Dues restriction lifted"),
    "dues_override.ended": _l("Dues restriction lift ended"),
    "payment.recorded": _l("Payment recorded"), "payment.reported": _l("Transfer reported"),
    "payment.confirmed": _l("Transfer confirmed"), "payment.rejected": _l("Transfer rejected"),
    "payment.created": _l("Online payment started"), "payment.failed": _l("Online payment failed"),
    "amenity.created": _l("Amenity added"), "amenity.updated": _l("Amenity changed"),
    "amenity.opened": _l("Amenity opened"), "amenity.closed": _l("Amenity closed"),
    "amenity.closure_added": _l("Closure added"), "amenity.closure_removed": _l("Closure removed"),
    "amenity.photo_added": _l("Amenity photo added"), "amenity.photo_removed": _l("Amenity photo removed"),
    "booking.created": _l("Booking made"), "booking.requested": _l("Booking requested"),
    "booking.approved": _l("Booking approved"), "booking.rejected": _l("Booking declined"),
    "booking.cancelled": _l("Booking cancelled"), "booking.cancelled_by_admin": _l("Booking cancelled by an admin"),
    "booking.completed": _l("Booking completed"), "booking.no_show": _l("Booking no-show"),
    "booking.reminded": _l("Booking reminder sent"),
    "integration.created": _l("Provider added"), "integration.updated": _l("Provider changed"),
    "integration.enabled": _l("Provider turned on"), "integration.disabled": _l("Provider turned off"),
    "integration.moved": _l("Providers reordered"), "integration.deleted": _l("Provider deleted"),
    "integration.test_sent": _l("Test message sent"), "integration.keys_rotated": _l("Provider keys rotated"),
    "message.resent": _l("Message sent again"), "push.subscribed": _l("Notifications turned on"),
    "push.subscription_renewed": _l("Notifications renewed"), "push.unsubscribed": _l("Notifications turned off"),
    "push.device_removed": _l("Device removed"), "push.subscription_dropped": _l("Device dropped"),
    "uploads.metadata_removed": _l("Stored images cleaned"),
}

# What the raw record's keys mean (the others are shown as recorded).
FIELD_NAMES: dict[str, object] = {
    "status": _l("Status"), "gate": _l("Gate"), "method": _l("Method"), "valid_from": _l("Valid from"),
    "valid_until": _l("Valid until"), "visitors": _l("Visitors"), "full_name": _l("Name"), "name": _l("Name"),
    "visitor_name": _l("Name"), "email": _l("Email"), "phone": _l("Phone"), "plate": _l("Plate"),
    "role": _l("Role"), "roles": _l("Roles"), "reason": _l("Reason"), "language": _l("Language"),
    "device": _l("Device"), "count": _l("Number"), "filename": _l("File"), "number": _l("Number"),
    "purpose": _l("Purpose"), "expires_at": _l("Expires"), "revoked_at": _l("Revoked"), "read_at": _l("Read"),
    "occurred_at": _l("When"), "entries_used": _l("Entries used"), "unit": _l("Unit"), "notes": _l("Notes"),
    "gate_names": _l("Gates"), "access_card_limit": _l("Access cards per household"), "card_number": _l("Card"),
    "join_code": _l("Join code"), "address": _l("Address"), "city": _l("City"), "brand_color": _l("Brand colour"),
    "contact_email": _l("Contact email"), "contact_phone": _l("Contact phone"), "timezone": _l("Time zone"),
    "currency": _l("Currency"), "default_language": _l("Default language"), "supervisor": _l("Supervisor"),
    "reference": _l("Reference"), "paid_on": _l("Paid on"), "proof": _l("Proof"), "invoice": _l("Invoice"),
}

_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_NAME_KEYS = ("full_name", "name", "visitor_name", "number", "plate", "phone", "email")


def action_name(action: str) -> str:
    name = ACTION_NAMES.get(action)
    return str(name) if name is not None else action


def _target_fallback(row: AuditRow) -> str:
    """The target's name from the record itself, when the row it names is gone."""
    for data in (row.log.after, row.log.before):
        if isinstance(data, dict):
            for key in _NAME_KEYS:
                if data.get(key):
                    return str(data[key])
            visitors = data.get("visitors")
            if isinstance(visitors, list) and visitors and isinstance(visitors[0], dict):
                return str(visitors[0].get("name") or "")
    if row.log.target_type == "User" and row.actor is not None and row.log.target_id == row.actor.id:
        return row.actor.display_name
    return _("someone")


def sentence(row: AuditRow, tz: ZoneInfo | None = None) -> str:
    """The row as one sentence in the current language."""
    log = row.log
    before = log.before if isinstance(log.before, dict) else {}
    after = log.after if isinstance(log.after, dict) else {}
    actor = row.actor.display_name if row.actor is not None else _("The system")
    target = row.target_name or _target_fallback(row)
    entry = SENTENCES.get(log.action)
    if entry is None:
        return _("%(actor)s: %(action)s", actor=actor, action=log.action)
    text, extras = entry
    params = {"actor": actor, "target": target}
    if extras is None:  # visit.extended: the new end, as people read it
        params["until"] = value_text(after.get("valid_until"), tz)
    else:
        params.update(extras(before, after))
    return str(text) % params


def field_name(key: str) -> str:
    name = FIELD_NAMES.get(key)
    return str(name) if name is not None else key


def value_text(value, tz: ZoneInfo | None = None) -> str:
    """A recorded value as people read it: times in the zone, lists of visitors as
    names, yes/no, a dash for nothing."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, str) and _ISO_TIME.match(value):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        return datetime_filter(moment, "medium", tz=tz)
    if isinstance(value, list):
        return ", ".join(value_text(item, tz) for item in value) or "—"
    if isinstance(value, dict):
        if "name" in value or "phone" in value:
            extra = [v for v in (value.get("phone"), value.get("plate")) if v]
            return (value.get("name") or "—") + (f" ({', '.join(extra)})" if extra else "")
        return ", ".join(f"{field_name(k)}: {value_text(v, tz)}" for k, v in value.items())
    return str(value)


def action_choices(codes: list[str]) -> list[tuple[str, str]]:
    """The filter's actions: (code, name), by name."""
    return sorted(((code, action_name(code)) for code in codes), key=lambda pair: pair[1].casefold())
