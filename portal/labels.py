"""Translated labels for the enum values a user sees."""

from flask_babel import lazy_gettext as _l

from portal.models import (
    EstateStatus,
    PassType,
    ResidentType,
    Role,
    UnitType,
    UserStatus,
    VisitStatus,
)

ROLE_LABELS = {
    Role.ESTATE_ADMIN: _l("Estate admin"),
    Role.GUARD: _l("Guard"),
    Role.RESIDENT: _l("Resident"),
}
ENTERPRISE_ADMIN_LABEL = _l("Enterprise admin")
ESTATE_STATUS_LABELS = {
    EstateStatus.PENDING: _l("Pending"),
    EstateStatus.ACTIVE: _l("Active"),
    EstateStatus.SUSPENDED: _l("Suspended"),
}
USER_STATUS_LABELS = {
    UserStatus.ACTIVE: _l("Active"),
    UserStatus.PENDING: _l("Pending"),
    UserStatus.SUSPENDED: _l("Suspended"),
    UserStatus.DISABLED: _l("Disabled"),
    UserStatus.DELETED: _l("Deleted"),
}
RESIDENT_TYPE_LABELS = {
    ResidentType.OWNER: _l("Owner"),
    ResidentType.TENANT: _l("Tenant"),
    ResidentType.FAMILY: _l("Family"),
    ResidentType.STAFF: _l("Domestic staff"),
}

UNIT_TYPE_LABELS = {
    UnitType.APARTMENT: _l("Apartment"),
    UnitType.HOUSE: _l("House"),
    UnitType.TERRACE: _l("Terrace house"),
    UnitType.DUPLEX: _l("Duplex"),
    UnitType.STUDIO: _l("Studio"),
    UnitType.SHOP: _l("Shop"),
    UnitType.OTHER: _l("Other"),
}
OCCUPANCY_LABELS = {"VACANT": _l("Vacant"), "OCCUPIED": _l("Occupied"), "ARCHIVED": _l("Archived")}
# Sign-up requests (ApprovalStatus values) and invitations (derived states).
APPROVAL_STATUS_LABELS = {
    "PENDING": _l("Pending"), "APPROVED": _l("Approved"), "REJECTED": _l("Rejected"), "EXPIRED": _l("Expired"),
}
INVITATION_STATUS_LABELS = {
    "PENDING": _l("Pending"), "ACCEPTED": _l("Accepted"), "EXPIRED": _l("Expired"), "REVOKED": _l("Revoked"),
}
# Access cards of a household (AccessCardStatus values) and residents' status filter.
ACCESS_CARD_STATUS_LABELS = {"REQUESTED": _l("Requested"), "ISSUED": _l("Issued"), "DEACTIVATED": _l("Deactivated")}
RESIDENT_STATUS_LABELS = {"CURRENT": _l("Current residents"), "MOVED_OUT": _l("Moved out"), "ALL": _l("All residents")}

# What an audit record is about (AuditLog.target_type holds the model's class name).
TARGET_TYPE_LABELS = {
    "Estate": _l("Estate"),
    "User": _l("User"),
    "Membership": _l("Membership"),
    "Unit": _l("Unit"),
    "Resident": _l("Household member"),
    "Vehicle": _l("Vehicle"),
    "AccessCard": _l("Access card"),
    "Invitation": _l("Invitation"),
    "Approval": _l("Join request"),
    "UserSession": _l("Session"),
    "OutboxMessage": _l("Message"),
    "Visit": _l("Visitor pass"),
    "WalkIn": _l("Walk-in"),
    "Ban": _l("Ban"),
    "FrequentVisitor": _l("Frequent visitor"),
    "Incident": _l("Incident"),
    "Notification": _l("Notification"),
    "KioskToken": _l("Gate kiosk"),
}

# Visits and the gate (issue 5).
PASS_TYPE_LABELS = {
    PassType.SINGLE_USE: _l("Single use"),
    PassType.MULTI_ENTRY: _l("Multiple entries"),
    PassType.RECURRING: _l("Recurring"),
    PassType.DELIVERY: _l("Delivery"),
}
VISIT_STATUS_LABELS = {
    VisitStatus.ACTIVE: _l("Active"),
    VisitStatus.CANCELLED: _l("Cancelled"),
    VisitStatus.REVOKED: _l("Revoked"),
}
BAN_SEVERITY_LABELS = {"LOW": _l("Low"), "MEDIUM": _l("Medium"), "HIGH": _l("High")}
# A pass in words for residents and visitors (portal.visits.service.pass_state).
PASS_STATE_LABELS = {
    "VALID": _l("Valid now"), "NOT_YET": _l("Not valid yet"), "OFF_HOURS": _l("Not valid at this hour"),
    "INSIDE": _l("Visitor inside"), "USED": _l("Used"), "EXPIRED": _l("Expired"), "CANCELLED": _l("Cancelled"),
    "REVOKED": _l("Revoked by the estate"), "BANNED": _l("Visitor banned"),
}

JINJA_GLOBALS = {
    "PASS_STATE_LABELS": PASS_STATE_LABELS,
    "BAN_SEVERITY_LABELS": BAN_SEVERITY_LABELS,
    "PASS_TYPE_LABELS": PASS_TYPE_LABELS,
    "VISIT_STATUS_LABELS": VISIT_STATUS_LABELS,
    "TARGET_TYPE_LABELS": TARGET_TYPE_LABELS,
    "UNIT_TYPE_LABELS": UNIT_TYPE_LABELS,
    "OCCUPANCY_LABELS": OCCUPANCY_LABELS,
    "ROLE_LABELS": ROLE_LABELS,
    "ESTATE_STATUS_LABELS": ESTATE_STATUS_LABELS,
    "USER_STATUS_LABELS": USER_STATUS_LABELS,
    "RESIDENT_TYPE_LABELS": RESIDENT_TYPE_LABELS,
    "ENTERPRISE_ADMIN_LABEL": ENTERPRISE_ADMIN_LABEL,
    "APPROVAL_STATUS_LABELS": APPROVAL_STATUS_LABELS,
    "INVITATION_STATUS_LABELS": INVITATION_STATUS_LABELS,
    "ACCESS_CARD_STATUS_LABELS": ACCESS_CARD_STATUS_LABELS,
    "RESIDENT_STATUS_LABELS": RESIDENT_STATUS_LABELS,
}

# Incidents logged at the gate (IncidentType values).
INCIDENT_TYPE_LABELS = {
    "SUSPICIOUS_PERSON": _l("Suspicious person"),
    "FORCED_ENTRY": _l("Forced entry"),
    "VEHICLE": _l("Vehicle incident"),
    "DAMAGE": _l("Damage to property"),
    "MEDICAL": _l("Medical emergency"),
    "FIRE": _l("Fire"),
    "OTHER": _l("Other"),
}
JINJA_GLOBALS["INCIDENT_TYPE_LABELS"] = INCIDENT_TYPE_LABELS

# Walk-ins at the gate (WalkInStatus values).
WALK_IN_STATUS_LABELS = {
    "PENDING": _l("Waiting for an answer"),
    "APPROVED": _l("Approved"),
    "DECLINED": _l("Declined"),
    "CANCELLED": _l("Withdrawn"),
    "EXPIRED": _l("No answer"),
}
JINJA_GLOBALS["WALK_IN_STATUS_LABELS"] = WALK_IN_STATUS_LABELS

# Delivery of an outbox message (MessageStatus values).
MESSAGE_STATUS_LABELS = {
    "QUEUED": _l("Waiting to be sent"),
    "SENDING": _l("Being sent"),
    "SENT": _l("Handed to the provider"),
    "FAILED": _l("Not sent"),
}
JINJA_GLOBALS["MESSAGE_STATUS_LABELS"] = MESSAGE_STATUS_LABELS

# Message providers (IntegrationChannel values; portal.integrations).
INTEGRATION_CHANNEL_LABELS = {"SMS": _l("SMS"), "EMAIL": _l("Email")}
JINJA_GLOBALS["INTEGRATION_CHANNEL_LABELS"] = INTEGRATION_CHANNEL_LABELS
TARGET_TYPE_LABELS["IntegrationSetting"] = _l("Message provider")
MESSAGE_CHANNEL_LABELS = {"EMAIL": _l("Email"), "SMS": _l("SMS"), "PUSH": _l("Push")}
JINJA_GLOBALS["MESSAGE_CHANNEL_LABELS"] = MESSAGE_CHANNEL_LABELS
# What an outbox message was (OutboxMessage.reason: why the person got it). A reason not
# listed here is shown as it is stored; "" is a message written without one.
MESSAGE_REASON_LABELS = {
    "sign_in_code": _l("Sign-in code"),
    "password_reset": _l("Password reset link"),
    "invitation": _l("Invitation"),
    "join_request": _l("Request to join the estate"),
    "visitor_arrived": _l("Your visitor has arrived"),
    "walk_in_request": _l("A visitor at the gate asks to see you"),
    "walk_in_decided": _l("A walk-in visitor was answered"),
    "invoice_issued": _l("An invoice was issued"),
    "payment_reminder": _l("A bill is due soon or overdue"),
    "payment_received": _l("A payment was received"),
    "booking_decided": _l("A booking was approved, declined or cancelled"),
    "booking_reminder": _l("A booking starts tomorrow"),
    "announcement": _l("Announcement"),
    "approval_decided": _l("A sign-up request was decided"),
    "integration_test": _l("Test message from the provider pages"),
    "": _l("Other message"),
}
JINJA_GLOBALS["MESSAGE_REASON_LABELS"] = MESSAGE_REASON_LABELS
# Billing (issue 11): keyed by the enums' string values.
INVOICE_STATUS_LABELS = {
    "DRAFT": _l("Draft"),
    "ISSUED": _l("Unpaid"),
    "PARTIALLY_PAID": _l("Partly paid"),
    "PAID": _l("Paid"),
    "OVERDUE": _l("Overdue"),
    "VOID": _l("Void"),
}
CHARGE_FREQUENCY_LABELS = {
    "MONTHLY": _l("Monthly"),
    "QUARTERLY": _l("Quarterly"),
    "ANNUAL": _l("Yearly"),
    "ONE_OFF": _l("Once"),
}
CHARGE_SCOPE_LABELS = {
    "ALL": _l("All units"),
    "UNIT_TYPES": _l("Units of some types"),
    "BLOCKS": _l("Units in some blocks"),
    "UNITS": _l("A list of units"),
}
GENERATION_STATUS_LABELS = {
    "QUEUED": _l("Waiting to start"),
    "RUNNING": _l("Generating"),
    "DONE": _l("Finished"),
    "FAILED": _l("Stopped"),
}
PAYMENT_METHOD_LABELS = {
    "FLUTTERWAVE": _l("Online (Flutterwave)"),
    "BANK_TRANSFER": _l("Bank transfer"),
    "CASH": _l("Cash"),
    "CHEQUE": _l("Cheque"),
    "OTHER": _l("Other"),
}
PAYMENT_STATUS_LABELS = {
    "PENDING": _l("Pending"),
    "SUCCESSFUL": _l("Successful"),
    "FAILED": _l("Failed"),
    "REJECTED": _l("Rejected"),
}
TARGET_TYPE_LABELS.update({
    "Charge": _l("Charge"),
    "UnitCharge": _l("One-off charge"),
    "Invoice": _l("Invoice"),
    "GenerationRun": _l("Invoice generation"),
    "Payment": _l("Payment"),
})
JINJA_GLOBALS.update({
    "INVOICE_STATUS_LABELS": INVOICE_STATUS_LABELS,
    "CHARGE_FREQUENCY_LABELS": CHARGE_FREQUENCY_LABELS,
    "CHARGE_SCOPE_LABELS": CHARGE_SCOPE_LABELS,
    "GENERATION_STATUS_LABELS": GENERATION_STATUS_LABELS,
    "PAYMENT_METHOD_LABELS": PAYMENT_METHOD_LABELS,
    "PAYMENT_STATUS_LABELS": PAYMENT_STATUS_LABELS,
})

# amenities and bookings
AMENITY_TYPE_LABELS = {
    "POOL": _l("Pool"),
    "HALL": _l("Hall"),
    "GYM": _l("Gym"),
    "COURT": _l("Sports court"),
    "BBQ": _l("Barbecue area"),
    "OTHER": _l("Other"),
}
AMENITY_STATUS_LABELS = {"AVAILABLE": _l("Available"), "CLOSED": _l("Closed")}
FEE_MODE_LABELS = {
    "FREE": _l("Free"),
    "PER_HOUR": _l("Per hour"),
    "PER_DAY": _l("Per day"),
    "FLAT": _l("Per booking"),
}
BOOKING_STATUS_LABELS = {
    "PENDING": _l("Waiting for approval"),
    "CONFIRMED": _l("Confirmed"),
    "REJECTED": _l("Declined"),
    "CANCELLED": _l("Cancelled"),
    "COMPLETED": _l("Completed"),
    "NO_SHOW": _l("No-show"),
}
TARGET_TYPE_LABELS.update({
    "Amenity": _l("Amenity"),
    "AmenityClosure": _l("Amenity closure"),
    "Booking": _l("Booking"),
})
JINJA_GLOBALS.update({
    "AMENITY_TYPE_LABELS": AMENITY_TYPE_LABELS,
    "AMENITY_STATUS_LABELS": AMENITY_STATUS_LABELS,
    "FEE_MODE_LABELS": FEE_MODE_LABELS,
    "BOOKING_STATUS_LABELS": BOOKING_STATUS_LABELS,
})
