"""The shared model. Every estate-owned row carries estate_id."""

from portal.models.audit import AuditLog
from portal.models.auth import MessageStatus, OneTimeCode, OutboxMessage, PasswordResetToken
from portal.models.base import UTCDateTime, utcnow
from portal.models.estate import Estate, EstateStatus
from portal.models.gate_extras import (
    Incident,
    IncidentType,
    KioskToken,
    Notification,
    WalkIn,
    WalkInStatus,
)
from portal.models.household import AccessCard, AccessCardStatus, Vehicle
from portal.models.imports import ImportPreview
from portal.models.integrations import IntegrationChannel, IntegrationSetting
from portal.models.onboarding import Approval, ApprovalStatus, Invitation, UserSession
from portal.models.people import Resident, ResidentType, Unit, UnitType
from portal.models.push import PushSubscription
from portal.models.user import Membership, PlatformRole, Role, User, UserStatus
from portal.models.visits import (
    Ban,
    BanScope,
    FrequentVisitor,
    GateEvent,
    GateEventType,
    GateMethod,
    PassType,
    Visit,
    VisitGuest,
    VisitStatus,
)

__all__ = [
    "MessageStatus",
    "ImportPreview",
    "IntegrationChannel",
    "IntegrationSetting",
    "Incident",
    "IncidentType",
    "KioskToken",
    "Notification",
    "WalkIn",
    "WalkInStatus",
    "Ban",
    "BanScope",
    "FrequentVisitor",
    "GateEvent",
    "GateEventType",
    "GateMethod",
    "PassType",
    "Visit",
    "VisitGuest",
    "VisitStatus",
    "AccessCard",
    "AccessCardStatus",
    "Approval",
    "ApprovalStatus",
    "AuditLog",
    "Invitation",
    "UserSession",
    "Vehicle",
    "Estate",
    "EstateStatus",
    "Membership",
    "OneTimeCode",
    "OutboxMessage",
    "PasswordResetToken",
    "PlatformRole",
    "PushSubscription",
    "Resident",
    "ResidentType",
    "Role",
    "UTCDateTime",
    "Unit",
    "UnitType",
    "User",
    "UserStatus",
    "utcnow",
]
