"""Two estates with one row of every estate-owned kind each, for the route sweep.

`build_world(app)` writes everything in one transaction (the per-test setup of a
parametrized sweep must stay light) and returns, per estate slug, a plain namespace of
ids: the people who sign in (admin, guard, supervisor, resident) and one row of each
kind a route can name. Every text an estate's rows carry includes its `marker`
(e.g. "ALPHAQX"), so a page of one estate can be searched for the other's rows.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import sqlalchemy as sa

from portal.extensions import db
from portal.integrations import keys
from portal.models import (
    AccessCard,
    AccessCardStatus,
    Amenity,
    AmenityClosure,
    AmenityPhoto,
    Approval,
    AuditLog,
    Ban,
    BanScope,
    Booking,
    BookingStatus,
    Charge,
    ChargeFrequency,
    Estate,
    EstateStatus,
    FrequentVisitor,
    GateEvent,
    GateEventType,
    GateMethod,
    GenerationRun,
    GenerationStatus,
    Incident,
    IncidentType,
    IntegrationChannel,
    IntegrationSetting,
    Invitation,
    Invoice,
    InvoiceLine,
    KioskToken,
    Membership,
    MessageStatus,
    Notification,
    OutboxMessage,
    PassType,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    PaymentProof,
    PaymentStatus,
    PlatformRole,
    Resident,
    ResidentType,
    Role,
    Unit,
    UnitCharge,
    User,
    Vehicle,
    Visit,
    VisitGuest,
    WalkIn,
)
from tests.conftest import (
    _PASSWORD_HASH,
    empty_tables,  # noqa: F401 - for the sweep's module-wide rows
)

SLUGS = ("alpha", "beta")
# A 1x1 PNG: the incident photo routes answer it.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def marker(slug: str) -> str:
    return slug.upper() + "QX"


def _build_estate(s, slug: str, n: int) -> SimpleNamespace:
    """One estate and its rows; `n` (1, 2) keeps phones and codes apart between estates."""
    mark, now = marker(slug), datetime.now(UTC)
    estate = Estate(slug=slug, name=f"{slug.title()} Court", country="NG", timezone="Africa/Lagos",
                    currency="NGN", default_language="en", status=EstateStatus.ACTIVE,
                    address=f"1 {mark} Road", city="Lagos", join_code=f"{mark}J")
    s.add(estate)
    s.flush()

    def user(who: str, role: Role | None, *, supervisor: bool = False) -> User:
        person = User(email=f"{who}@{slug}.test", full_name=f"{who.title()} {mark}", password_hash=_PASSWORD_HASH)
        s.add(person)
        s.flush()
        if role is not None:
            s.add(Membership(user_id=person.id, estate_id=estate.id, role=role, is_supervisor=supervisor))
        return person

    admin = user("admin", Role.ESTATE_ADMIN)
    guard = user("guard", Role.GUARD)
    supervisor = user("supervisor", Role.GUARD, supervisor=True)
    resident_user = user("resident", Role.RESIDENT)
    invited = user("invited", None)  # invited, not yet a member
    applicant = user("applicant", None)  # asked to join, waiting for approval

    unit = Unit(estate_id=estate.id, number=f"A1-{mark}")
    s.add(unit)
    s.flush()
    resident = Resident(estate_id=estate.id, unit_id=unit.id, user_id=resident_user.id,
                        full_name=f"Resident {mark}", resident_type=ResidentType.OWNER)
    s.add(resident)
    s.flush()

    vehicle = Vehicle(estate_id=estate.id, unit_id=unit.id, plate=f"{mark}PL{n}", make=f"Make {mark}")
    card = AccessCard(estate_id=estate.id, unit_id=unit.id, resident_id=resident.id, card_number=f"{mark}C{n}",
                      status=AccessCardStatus.REQUESTED, requested_by_id=resident_user.id)
    visit = Visit(estate_id=estate.id, unit_id=unit.id, host_user_id=resident_user.id,
                  created_by_id=resident_user.id, pass_type=PassType.MULTI_ENTRY, purpose=f"Visit {mark}",
                  valid_from=now - timedelta(hours=1), valid_until=now + timedelta(days=2), max_entries=5,
                  qr_token=secrets.token_urlsafe(24), visitor_code=f"{slug[:1].upper()}VSTCD{n}2")
    visit.visitors = [VisitGuest(estate_id=estate.id, full_name=f"Guest {mark}", phone=f"+23480900000{n}1",
                                 plate=f"{mark}GP{n}")]
    s.add_all([vehicle, card, visit])
    s.flush()
    guest = visit.visitors[0]
    event = GateEvent(estate_id=estate.id, visit_id=visit.id, guard_user_id=guard.id,
                      event_type=GateEventType.DENIED, method=GateMethod.CODE, reason="PASS_EXPIRED",
                      gate=f"Gate {mark}", occurred_at=now - timedelta(minutes=30))
    estate_ban = Ban(estate_id=estate.id, phone=f"+23480900000{n}2", scope=BanScope.ESTATE,
                     reason=f"Estate ban {mark}", created_by_id=admin.id)
    personal_ban = Ban(estate_id=estate.id, phone=f"+23480900000{n}3", scope=BanScope.PERSONAL,
                       owner_user_id=resident_user.id, reason=f"Personal ban {mark}",
                       created_by_id=resident_user.id)
    frequent = FrequentVisitor(estate_id=estate.id, host_user_id=resident_user.id, full_name=f"Frequent {mark}",
                               phone=f"+23480900000{n}4")
    walk_in = WalkIn(estate_id=estate.id, unit_id=unit.id, guard_user_id=guard.id, gate="Main gate",
                     visitor_name=f"Walker {mark}", phone=f"+23480900000{n}5", purpose=f"Walk-in {mark}")
    incident = Incident(estate_id=estate.id, reported_by_id=guard.id, gate="Main gate",
                        incident_type=IncidentType.OTHER, description=f"Incident {mark}",
                        occurred_at=now - timedelta(hours=2), photo=PNG, photo_type="image/png")
    notification = Notification(estate_id=estate.id, user_id=resident_user.id, kind="visitor_arrived",
                                params={"name": f"Guest {mark}"}, link=f"/e/{slug}/home/", created_at=now)
    invitation = Invitation(estate_id=estate.id, full_name=invited.full_name, email=invited.email,
                            phone=invited.phone, role=Role.RESIDENT, unit_id=unit.id,
                            resident_type=ResidentType.TENANT,
                            token_hash=hashlib.sha256(secrets.token_bytes(16)).hexdigest(),
                            expires_at=now + timedelta(days=7), invited_by_id=admin.id)
    approval = Approval(estate_id=estate.id, user_id=applicant.id, unit_id=unit.id,
                        resident_type=ResidentType.TENANT, emergency_contact_name=f"Contact {mark}",
                        expires_at=now + timedelta(days=30))
    audit = AuditLog(estate_id=estate.id, actor_user_id=admin.id, action="unit.created", target_type="unit",
                     target_id=unit.id, after={"number": unit.number})
    message = OutboxMessage(channel="SMS", recipient=f"+23480900000{n}6", body=f"Message {mark}", estate_id=estate.id,
                            reason="visitor_arrived", status=MessageStatus.FAILED, attempts=4, provider="FAKE",
                            last_error=f"Refused {mark}", next_attempt_at=None)
    s.add_all([event, estate_ban, personal_ban, frequent, walk_in, incident, notification, invitation,
               approval, audit, message])
    s.flush()
    # Billing: a charge, a one-off charge waiting for an invoice, a finished generation and its
    # invoice (the resident's unit's, with one line).
    today = now.date()
    charge = Charge(estate_id=estate.id, name=f"Charge {mark}", amount_minor=100_000 * n, currency="NGN",
                    frequency=ChargeFrequency.MONTHLY, starts_on=today.replace(day=1), unit_types=[], blocks=[])
    unit_charge = UnitCharge(estate_id=estate.id, unit_id=unit.id, description=f"Fine {mark}", amount_minor=5_000,
                             currency="NGN", charge_date=today)
    run = GenerationRun(estate_id=estate.id, period_start=today.replace(day=1), period_end=today.replace(day=28),
                        issue_date=today, due_date=today, status=GenerationStatus.DONE, total_units=1, done_units=1,
                        invoices_created=1, currency="NGN", finished_at=now)
    s.add_all([charge, unit_charge, run])
    s.flush()
    invoice = Invoice(estate_id=estate.id, unit_id=unit.id, resident_id=resident.id,
                      billed_to_name=f"Resident {mark}", number=f"{mark}-2026-00000{n}", year=2026, sequence=1,
                      period_start=run.period_start, period_end=run.period_end, issue_date=today, due_date=today,
                      subtotal_minor=100_000, total_minor=100_000, balance_minor=100_000, currency="NGN", run_id=run.id)
    s.add(invoice)
    s.flush()
    s.add(InvoiceLine(invoice_id=invoice.id, estate_id=estate.id, charge_id=charge.id, description=f"Charge {mark}",
                      unit_amount_minor=100_000, amount_minor=100_000))
    # A transfer the resident reported from that invoice, waiting for an admin, with its proof.
    payment = Payment(estate_id=estate.id, unit_id=unit.id, payer_user_id=resident_user.id, amount_minor=100_000,
                      currency="NGN", method=PaymentMethod.BANK_TRANSFER, tx_ref=f"{mark}-T-000{n}",
                      reference=f"TRF {mark}", paid_at=now, recorded_by_id=resident_user.id,
                      reported_invoice_id=invoice.id)
    s.add(payment)
    s.flush()
    s.add(PaymentProof(payment_id=payment.id, estate_id=estate.id, content=PNG, content_type="image/png",
                       filename=f"slip-{slug}.png", size=len(PNG)))
    # An online payment already applied (its receipt).
    paid = Payment(estate_id=estate.id, unit_id=unit.id, payer_user_id=resident_user.id, amount_minor=1_000,
                      currency="NGN", method=PaymentMethod.FLUTTERWAVE, status=PaymentStatus.SUCCESSFUL,
                      tx_ref=f"GH-{slug.upper()}-{n}", provider_transaction_id=f"{9_000 + n}", paid_at=now,
                      invoice_ids=[invoice.id])
    s.add(paid)
    s.flush()
    s.add(PaymentAllocation(payment_id=paid.id, invoice_id=invoice.id, estate_id=estate.id, amount_minor=1_000))
    # Amenities: one amenity with a closure, and a booking of the resident's unit tomorrow.
    amenity = Amenity(estate_id=estate.id, name=f"Court {mark}", currency="NGN",
                      opening_hours={str(d): [["06:00", "22:00"]] for d in range(7)}, max_guests=2)
    s.add(amenity)
    s.flush()
    tomorrow = now.replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    closure = AmenityClosure(estate_id=estate.id, amenity_id=amenity.id, starts_at=tomorrow + timedelta(days=2),
                             ends_at=tomorrow + timedelta(days=3), reason=f"Repairs {mark}")
    booking = Booking(estate_id=estate.id, amenity_id=amenity.id, unit_id=unit.id, user_id=resident_user.id,
                      starts_at=tomorrow, ends_at=tomorrow + timedelta(hours=1), status=BookingStatus.PENDING,
                      currency="NGN", notes=f"Party {mark}")
    photo = AmenityPhoto(estate_id=estate.id, amenity_id=amenity.id, content=PNG, content_type="image/png",
                         size=len(PNG), width=1, height=1)
    s.add_all([closure, booking, photo])
    s.flush()
    guard_membership = s.scalar(sa.select(Membership.id).where(Membership.user_id == guard.id))
    token = KioskToken(jti=secrets.token_hex(16), estate_id=estate.id, membership_id=guard_membership,
                       device_id=f"kiosk-{slug}-0001", issued_at=now, expires_at=now + timedelta(hours=1))
    s.add(token)
    integration = IntegrationSetting(estate_id=estate.id, channel=IntegrationChannel.EMAIL, kind="smtp",
                                     name=f"Mail {mark}", values_encrypted=keys.encrypt(
                                         {"host": f"smtp.{slug}.test", "port": "587", "password": f"pw-{mark}",
                                          "from_address": f"gate@{slug}.test"}))
    s.add(integration)
    s.flush()
    test_message = OutboxMessage(channel="EMAIL", recipient=admin.email, subject="Test", body=f"Test {mark}",
                                 estate_id=estate.id, reason="integration_test", provider_setting_id=integration.id,
                                 status=MessageStatus.SENT)
    s.add(test_message)
    s.flush()
    return SimpleNamespace(
        slug=slug, marker=mark, estate=estate.id,
        admin=admin.id, guard=guard.id, supervisor=supervisor.id, resident_user=resident_user.id,
        emails={"admin": admin.email, "guard": guard.email, "supervisor": supervisor.email,
                "resident": resident_user.email},
        unit=unit.id, resident=resident.id, vehicle=vehicle.id, card=card.id, visit=visit.id, guest=guest.id,
        visit_code=visit.visitor_code, qr_token=visit.qr_token, gate_event=event.id, estate_ban=estate_ban.id,
        personal_ban=personal_ban.id, frequent=frequent.id, walk_in=walk_in.id, incident=incident.id,
        notification=notification.id, invitation=invitation.id, approval=approval.id, audit=audit.id,
        kiosk_token=token.id, integration=integration.id, test_message=test_message.id, message=message.id,
        charge=charge.id, unit_charge=unit_charge.id, run=run.id, invoice=invoice.id, payment=payment.id,
        receipt_payment=paid.id, amenity=amenity.id, closure=closure.id, booking=booking.id,
        amenity_photo=photo.id,
    )


def build_world(app) -> SimpleNamespace:
    """Estates alpha and beta; each estate's `emails` also names the enterprise admin, "boss"."""
    with app.app_context():
        world = {slug: _build_estate(db.session, slug, n) for n, slug in enumerate(SLUGS, start=1)}
        boss = User(email="boss@platform.test", full_name="Platform Boss", password_hash=_PASSWORD_HASH,
                    platform_role=PlatformRole.ENTERPRISE_ADMIN)
        db.session.add(boss)
        db.session.commit()
    for estate in world.values():
        estate.emails["boss"] = "boss@platform.test"
    return SimpleNamespace(**world)


class WriteRecorder:
    """Records the INSERT/UPDATE/DELETE statements run on the app's engine (except the
    `ignore`d ones: session bookkeeping), to assert that a request wrote nothing."""

    WRITES = ("INSERT", "UPDATE", "DELETE")

    def __init__(self, app, ignore: tuple[str, ...] = ("UPDATE user_session SET last_seen_at",)):
        with app.app_context():
            self.engine = db.engine
        self.ignore = ignore
        self.statements: list[str] = []
        sa.event.listen(self.engine, "before_cursor_execute", self._record)

    def _record(self, conn, cursor, statement, parameters, context, executemany):
        text = " ".join(statement.split())
        if text.upper().startswith(self.WRITES) and not text.startswith(self.ignore):
            self.statements.append(text[:120])

    def take(self) -> list[str]:
        taken, self.statements = self.statements, []
        return taken

    def close(self) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._record)
