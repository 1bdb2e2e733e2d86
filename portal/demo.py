"""Demo data: two estates and an account for every role. Idempotent."""

from __future__ import annotations

import random
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from portal.accounts.signin import hash_password
from portal.amenities.schedule import fee_for
from portal.billing import generation
from portal.billing.invoices import mark_overdue
from portal.billing.payments import apply_payment
from portal.billing.periods import add_months, containing
from portal.extensions import db
from portal.models import (
    AccessCard,
    AccessCardStatus,
    Amenity,
    AmenityType,
    Approval,
    ApprovalStatus,
    Ban,
    BanScope,
    BillingSettings,
    Booking,
    BookingStatus,
    Charge,
    ChargeFrequency,
    ChargeOptIn,
    ChargeScope,
    Estate,
    EstateStatus,
    FeeMode,
    GateEvent,
    GateEventType,
    GateMethod,
    GenerationRun,
    GenerationStatus,
    Invoice,
    InvoiceKind,
    Membership,
    PassType,
    Payment,
    PaymentMethod,
    PaymentStatus,
    PlatformRole,
    Resident,
    ResidentType,
    Role,
    Unit,
    UnitCharge,
    UnitType,
    User,
    UserStatus,
    Vehicle,
    Visit,
    VisitGuest,
    VisitStatus,
    utcnow,
)
from portal.text import normalise_plate

DEMO_PASSWORD = "demo1234"  # noqa: S105 - published demo password

NG_FIRST = ["Adaeze", "Babatunde", "Chidi", "Damilola", "Emeka", "Funmilayo", "Gbenga", "Halima",
            "Ifeoma", "Jide", "Kemi", "Lanre", "Musa", "Ngozi", "Olu", "Patience", "Segun",
            "Tolu", "Uche", "Yetunde", "Zainab", "Bolaji", "Chiamaka", "Obinna"]
NG_LAST = ["Adeyemi", "Okafor", "Balogun", "Eze", "Ibrahim", "Nwosu", "Olawale", "Bello",
           "Okonkwo", "Adebayo", "Chukwu", "Danjuma", "Ogunleye", "Uzor", "Afolabi", "Ekwueme"]
GT_FIRST = ["María", "José", "Ana", "Luis", "Carmen", "Jorge", "Lucía", "Carlos", "Sofía", "Diego"]
GT_LAST = ["García", "López", "Pérez", "Morales", "Hernández", "Castillo", "Ramírez", "Méndez"]


def _user(email: str, full_name: str, *, phone: str | None = None, language: str | None = None,
          platform_role: PlatformRole | None = None, password_hash: str) -> User:
    user = db.session.scalar(sa.select(User).where(User.email == email))
    if user is None:
        user = User(email=email, full_name=full_name, phone=phone, preferred_language=language,
                    platform_role=platform_role, password_hash=password_hash)
        db.session.add(user)
        db.session.flush()
    return user


def _estate(slug: str, **fields) -> Estate:
    estate = db.session.scalar(sa.select(Estate).where(Estate.slug == slug))
    if estate is None:
        estate = Estate(slug=slug, status=EstateStatus.ACTIVE, **fields)
        db.session.add(estate)
        db.session.flush()
    return estate


def _member(user: User, estate: Estate, role: Role, supervisor: bool = False) -> None:
    exists = db.session.scalar(
        sa.select(Membership.id).where(
            Membership.user_id == user.id, Membership.estate_id == estate.id, Membership.role == role
        )
    )
    if exists is None:
        db.session.add(Membership(user=user, estate=estate, role=role, is_supervisor=supervisor))


def _units(estate: Estate, numbers: list[tuple[str, str, str, str]]) -> dict[str, Unit]:
    existing = {u.number: u for u in db.session.scalars(sa.select(Unit).where(Unit.estate_id == estate.id))}
    for number, block, floor, unit_type in numbers:
        if number not in existing:
            unit = Unit(estate_id=estate.id, number=number, block=block, floor=floor, unit_type=unit_type)
            db.session.add(unit)
            existing[number] = unit
    db.session.flush()
    return existing


def _resident(estate: Estate, unit: Unit, full_name: str, rtype: ResidentType, *,
              user: User | None = None, phone: str | None = None, email: str | None = None,
              moved_in: date | None = None) -> None:
    if user is not None:
        exists = db.session.scalar(sa.select(Resident.id).where(
            Resident.estate_id == estate.id, Resident.user_id == user.id, Resident.unit_id == unit.id))
    else:
        exists = db.session.scalar(sa.select(Resident.id).where(
            Resident.estate_id == estate.id, Resident.unit_id == unit.id, Resident.full_name == full_name))
    if exists is None:
        db.session.add(Resident(estate_id=estate.id, unit_id=unit.id, user_id=user.id if user else None,
                                full_name=full_name, phone=phone, email=email, resident_type=rtype,
                                move_in_date=moved_in))


def _vehicle(estate: Estate, unit: Unit, plate: str, make: str, model: str, colour: str) -> None:
    plate = normalise_plate(plate)
    exists = db.session.scalar(sa.select(Vehicle.id).where(Vehicle.estate_id == estate.id, Vehicle.plate == plate))
    if exists is None:
        db.session.add(Vehicle(estate_id=estate.id, unit_id=unit.id, plate=plate, make=make, model=model,
                               colour=colour))


def _card(estate: Estate, unit: Unit, number: str | None, status: AccessCardStatus) -> None:
    stmt = sa.select(AccessCard.id).where(AccessCard.estate_id == estate.id, AccessCard.unit_id == unit.id)
    stmt = stmt.where(AccessCard.card_number == number) if number else stmt.where(AccessCard.card_number.is_(None))
    if db.session.scalar(stmt) is None:
        db.session.add(AccessCard(estate_id=estate.id, unit_id=unit.id, card_number=number, status=status,
                                  issued_at=utcnow() if status == AccessCardStatus.ISSUED else None))


def _sign_up(estate: Estate, unit: Unit, email: str, full_name: str, phone: str, days_ago: int,
             status: ApprovalStatus, password_hash: str) -> None:
    """A resident's join request as the public join page makes it."""
    if db.session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        return
    user = User(email=email, full_name=full_name, phone=phone, password_hash=password_hash,
                status=UserStatus.PENDING if status == ApprovalStatus.PENDING else UserStatus.DISABLED)
    db.session.add(user)
    db.session.flush()
    created = utcnow() - timedelta(days=days_ago)
    db.session.add(Approval(estate_id=estate.id, user_id=user.id, unit_id=unit.id,
                            resident_type=ResidentType.TENANT, emergency_contact_name="Mama " + full_name.split()[-1],
                            emergency_contact_phone="+2348000009999", status=status, created_at=created,
                            expires_at=created + timedelta(days=30)))


DEMO_VISITS = [
    # code, pass type, visitor, phone, starts (hours from now), ends (hours from now), status, max entries
    ("DEMSNG22", PassType.SINGLE_USE, "Chinedu Okeke", "+2348091110001", -1, 6, VisitStatus.ACTIVE, 1),
    ("DEMRCE88", PassType.SINGLE_USE, "Halima Sani", "+2348091110002", -1, 6, VisitStatus.ACTIVE, 1),
    ("DEMMNY33", PassType.MULTI_ENTRY, "Femi Adeyemi", "+2348091110003", -1, 24, VisitStatus.ACTIVE, 3),
    ("DEMXPD44", PassType.SINGLE_USE, "Bola Expired", "+2348091110004", -30, -20, VisitStatus.ACTIVE, 1),
    ("DEMFTR77", PassType.SINGLE_USE, "Kunle Future", "+2348091110005", 24, 30, VisitStatus.ACTIVE, 1),
    ("DEMRVK66", PassType.SINGLE_USE, "Rita Revoked", "+2348091110006", -1, 6, VisitStatus.REVOKED, 1),
    ("DEMBAN55", PassType.SINGLE_USE, "Banned Visitor", "+2348099999999", -1, 6, VisitStatus.ACTIVE, 1),
]
BANNED_PHONE = "+2348099999999"


def _demo_visit(estate: Estate, unit: Unit, host: User | None, code: str, pass_type: PassType, name: str, phone: str,
                starts: datetime, ends: datetime, status: VisitStatus, max_entries: int | None,
                inside: bool = False, used: int = 0) -> Visit:
    """Create the visit with this code, or put it back as described (windows move with the clock)."""
    visit = db.session.scalar(sa.select(Visit).where(Visit.estate_id == estate.id, Visit.visitor_code == code))
    if visit is None:
        visit = Visit(estate_id=estate.id, visitor_code=code, qr_token=secrets.token_urlsafe(24))
        db.session.add(visit)
        visit.visitors = [VisitGuest(estate_id=estate.id, full_name=name, phone=phone)]
    visit.unit_id = unit.id
    visit.host_user_id = visit.created_by_id = host.id if host is not None else None
    visit.pass_type, visit.status, visit.purpose = pass_type, status, "Visit"
    visit.valid_from, visit.valid_until, visit.max_entries = starts, ends, max_entries
    visit.entries_used, visit.people_inside = used, inside
    visit.revoked_at = utcnow() if status == VisitStatus.REVOKED else None
    return visit


def _seed_visits(gp: Estate, units: dict[str, Unit], host: User, guard: User, rng: random.Random) -> None:
    now = utcnow().replace(microsecond=0)
    for code, pass_type, name, phone, start_h, end_h, status, max_entries in DEMO_VISITS:
        _demo_visit(gp, units["A12"], host, code, pass_type, name, phone, now + timedelta(hours=start_h),
                    now + timedelta(hours=end_h), status, max_entries)
    # A driver who comes Monday to Saturday, 06:00-20:00, for two months; a courier's delivery.
    driver = _demo_visit(gp, units["A12"], host, "DEMRCR23", PassType.RECURRING, "Emeka Driver", "+2348091110007",
                         now - timedelta(days=1), now + timedelta(days=60), VisitStatus.ACTIVE, None)
    driver.weekdays, driver.daily_start, driver.daily_end = "123456", time(6, 0), time(20, 0)
    driver.purpose = "Driver"
    delivery = _demo_visit(gp, units["A12"], host, "DEMDLV45", PassType.DELIVERY, "", None,
                           now - timedelta(minutes=10), now + timedelta(hours=2), VisitStatus.ACTIVE, 1)
    delivery.purpose = "Jumia delivery"
    if db.session.scalar(sa.select(Ban.id).where(Ban.estate_id == gp.id, Ban.phone == BANNED_PHONE)) is None:
        db.session.add(Ban(estate_id=gp.id, phone=BANNED_PHONE, scope=BanScope.ESTATE, severity="HIGH",
                           reason="Caught stealing from a parked car", created_by_id=guard.id))
    # A few people inside now, and two weeks of history at the main gate.
    db.session.flush()
    if db.session.scalar(sa.select(sa.func.count()).select_from(GateEvent).where(GateEvent.estate_id == gp.id)):
        return
    hosts = [u for n, u in sorted(units.items()) if n.startswith(("B", "C"))][:12]
    for n in range(36):
        inside = n < 3
        entered = now - (timedelta(minutes=20 + 25 * n) if inside else timedelta(days=1 + n % 14, hours=rng.randint(0, 8)))
        name = f"{rng.choice(NG_FIRST)} {rng.choice(NG_LAST)}"
        # Their hosts have no login: the guard rang the unit (no host user on the pass).
        visit = _demo_visit(gp, hosts[n % len(hosts)], None, f"HIS{n:05d}", PassType.SINGLE_USE, name,
                            f"+23480922{n:05d}", entered - timedelta(hours=1), entered + timedelta(hours=6),
                            VisitStatus.ACTIVE, 1, inside=inside, used=1)
        db.session.flush()
        db.session.add(GateEvent(estate_id=gp.id, visit_id=visit.id, guard_user_id=guard.id, gate="Main gate",
                                 event_type=GateEventType.ENTRY, method=GateMethod.CODE, occurred_at=entered))
        if not inside:
            db.session.add(GateEvent(estate_id=gp.id, visit_id=visit.id, guard_user_id=guard.id, gate="Main gate",
                                     event_type=GateEventType.EXIT, method=GateMethod.CODE,
                                     occurred_at=entered + timedelta(hours=rng.randint(1, 4))))


def _charge(estate: Estate, name: str, amount_minor: int, frequency: ChargeFrequency, starts_on: date, *,
            mandatory: bool = True, description: str = "") -> Charge:
    charge = db.session.scalar(sa.select(Charge).where(Charge.estate_id == estate.id, Charge.name == name))
    if charge is None:
        charge = Charge(estate_id=estate.id, name=name, description=description, amount_minor=amount_minor,
                        currency=estate.currency, frequency=frequency, mandatory=mandatory,
                        applies_to=ChargeScope.ALL, unit_types=[], blocks=[], starts_on=starts_on, active=True)
        db.session.add(charge)
        db.session.flush()
    return charge


HISTORY_MONTHS = 6  # this month and the five before it


def _seed_billing(gp: Estate, gp_units: dict[str, Unit], lf: Estate, admins: dict[int, User],
                  payers: dict[int, tuple[str, User]]) -> None:
    """Charges for both estates and six months of invoices (a generation run per month, as
    the admin's button makes one, each issued on its month's first day), paid as estates
    are: most in full, some in part, some not at all (overdue); running the seed again
    creates nothing twice."""
    this_month = containing(generation.estate_today(gp))
    for estate, prefix, tax_bp in ((gp, "GP", 750), (lf, "LF", 0)):
        if db.session.get(BillingSettings, estate.id) is None:
            db.session.add(BillingSettings(estate_id=estate.id, invoice_prefix=prefix, tax_rate_bp=tax_bp, due_days=14))
    first_billed = add_months(this_month.start, 1 - HISTORY_MONTHS)
    year_start = min(date(this_month.start.year, 1, 1), first_billed)
    _charge(gp, "Service charge", 4_500_000, ChargeFrequency.MONTHLY, year_start,
            description="Cleaning, gardening and the common areas")
    _charge(gp, "Security levy", 1_500_000, ChargeFrequency.MONTHLY, year_start)
    _charge(gp, "Waste management", 900_000, ChargeFrequency.QUARTERLY, add_months(this_month.start, -3))
    gym = _charge(gp, "Gym membership", 1_000_000, ChargeFrequency.MONTHLY, year_start, mandatory=False)
    if db.session.get(ChargeOptIn, (gym.id, gp_units["A12"].id)) is None:
        db.session.add(ChargeOptIn(charge_id=gym.id, unit_id=gp_units["A12"].id, estate_id=gp.id))
    lf_month = containing(generation.estate_today(lf))
    lf_start = min(date(lf_month.start.year, 1, 1), add_months(lf_month.start, 1 - HISTORY_MONTHS))
    _charge(lf, "Cuota de mantenimiento", 85_000, ChargeFrequency.MONTHLY, lf_start,
            description="Seguridad, jardinería y áreas comunes")
    if db.session.scalar(sa.select(UnitCharge.id).where(UnitCharge.estate_id == gp.id)) is None:
        db.session.add(UnitCharge(estate_id=gp.id, unit_id=gp_units["A12"].id, description="Replacement access card",
                                  amount_minor=500_000, currency=gp.currency, charge_date=this_month.start,
                                  created_by_id=admins[gp.id].id))
    db.session.commit()
    plans = []
    for estate in (gp, lf):
        today = generation.estate_today(estate)
        current = containing(today)
        for back in range(HISTORY_MONTHS - 1, -1, -1):
            period = containing(add_months(current.start, -back))
            done = db.session.scalar(sa.select(GenerationRun.id).where(
                GenerationRun.estate_id == estate.id, GenerationRun.period_start == period.start,
                GenerationRun.status == GenerationStatus.DONE))
            if done is not None:
                continue
            if back:  # a past month: issued on its first day, due two weeks later
                generation.generate_now(estate, period, actor_id=admins[estate.id].id, issue_date=period.start,
                                        due_date=period.start + timedelta(days=14))
            else:
                generation.generate_now(estate, period, actor_id=admins[estate.id].id)
        demo_unit, demo_user = payers[estate.id]
        plans.append(_PaymentPlan(estate.id, estate.slug, estate.timezone, estate.currency, current.start, demo_unit,
                                  demo_user.id))
    # Each payment commits: with nothing in the session, a commit has nothing to expire.
    db.session.expunge_all()
    for plan in plans:
        _seed_payments(plan)
    mark_overdue()


@dataclass(frozen=True)
class _PaymentPlan:
    estate_id: int
    slug: str
    timezone: str
    currency: str
    this_month: date
    demo_unit: str
    demo_user_id: int


# Who pays how (the demo is the same every time): the demo residents' units pay every past
# month in full; two units of each estate stopped paying four months ago (far behind: they
# would be restricted if the admin turns dues restrictions on); the others mostly pay.
CHRONIC = {"greenpark": ("C10", "D6"), "lasflores": ("Casa 4",)}
METHODS = (PaymentMethod.FLUTTERWAVE, PaymentMethod.BANK_TRANSFER, PaymentMethod.FLUTTERWAVE, PaymentMethod.CASH)


def _seed_payments(plan: _PaymentPlan) -> None:
    """Pay the estate's generated invoices through the real `apply_payment`, once each
    (a payment's tx_ref is DEMO-<invoice number>)."""
    estate_id, currency, demo_unit, demo_user_id, this_month = (plan.estate_id, plan.currency, plan.demo_unit,
                                                                plan.demo_user_id, plan.this_month)
    zone = ZoneInfo(plan.timezone)
    rng = random.Random(f"{plan.slug}-payments")
    paid_refs = set(db.session.scalars(sa.select(Payment.tx_ref).where(Payment.estate_id == estate_id,
                                                                     Payment.tx_ref.like("DEMO-%"))))
    rows = db.session.execute(
        sa.select(Invoice.id, Invoice.number, Invoice.unit_id, Unit.number, Invoice.period_start, Invoice.issue_date,
                  Invoice.total_minor)
        .join(Unit, Unit.id == Invoice.unit_id)
        .where(Invoice.estate_id == estate_id, Invoice.kind == InvoiceKind.PERIODIC)
        .order_by(Invoice.period_start, Invoice.id)).all()
    now = utcnow()
    chronic = CHRONIC.get(plan.slug, ())
    payments, invoice_of = [], {}
    for invoice_id, number, unit_id, unit_number, period_start, issued, total in rows:
        roll, days, method = rng.random(), rng.randint(2, 20), rng.choice(METHODS)  # drawn for every row: stable
        current = period_start >= this_month
        if unit_number == demo_unit:
            amount = 0 if current else total
        elif unit_number in chronic and period_start >= add_months(this_month, -3):
            amount = 0
        elif current:
            amount = total if roll < 0.2 else 0  # a few pay early
        elif roll < 0.74:
            amount = total
        elif roll < 0.86:
            amount = total // 200 * 100  # half, in whole naira/quetzales
        else:
            amount = 0
        tx_ref = f"DEMO-{number}"
        if amount <= 0 or tx_ref in paid_refs:
            continue
        invoice_of[tx_ref] = invoice_id
        payments.append({
            "estate_id": estate_id, "unit_id": unit_id, "amount_minor": amount, "currency": currency,
            "method": method, "status": PaymentStatus.PENDING, "tx_ref": tx_ref, "created_at": now,
            "paid_at": min(datetime.combine(issued + timedelta(days=days), time(10, 0), tzinfo=zone), now),
            "payer_user_id": demo_user_id if unit_number == demo_unit else None,
            "reference": "" if method == PaymentMethod.FLUTTERWAVE else f"TRF{invoice_id:06d}"})
    if not payments:
        return
    table = Payment.__table__
    written = db.session.execute(sa.insert(table).returning(table.c.id, table.c.tx_ref, sort_by_parameter_order=True),
                                 payments).all()
    db.session.commit()
    for payment_id, tx_ref in written:  # each applied as the portal applies a payment, in its own transaction
        apply_payment(payment_id, [invoice_of[tx_ref]])


@contextmanager
def _quick_sqlite_commits() -> Iterator[None]:
    """The demo writes a few hundred small transactions (each payment applied as the portal
    applies one, each committed). On SQLite, skip the disk sync of each commit while seeding:
    a power cut mid-seed could cost the demo database, nothing else; every connection is
    back to the default (FULL) when it returns to the pool."""
    engine = db.engine
    if engine.dialect.name != "sqlite":
        yield
        return

    def quick(dbapi_connection, *_args) -> None:
        dbapi_connection.execute("PRAGMA synchronous = OFF")

    def safe(dbapi_connection, *_args) -> None:
        dbapi_connection.execute("PRAGMA synchronous = FULL")

    sa.event.listen(engine, "checkout", quick)
    sa.event.listen(engine, "checkin", safe)
    try:
        yield
    finally:
        sa.event.remove(engine, "checkout", quick)
        sa.event.remove(engine, "checkin", safe)


def _amenity(estate: Estate, name: str, **fields) -> Amenity:
    amenity = db.session.scalar(sa.select(Amenity).where(Amenity.estate_id == estate.id, Amenity.name == name))
    if amenity is None:
        amenity = Amenity(estate_id=estate.id, name=name, currency=estate.currency, **fields)
        db.session.add(amenity)
        db.session.flush()
    return amenity


def _demo_booking(amenity: Amenity, unit: Unit, user: User | None, day: date, start_hour: int, hours: int,
                  status: BookingStatus, guests: int = 0, notes: str = "") -> None:
    tz = ZoneInfo(db.session.get(Estate, amenity.estate_id).timezone)  # in the session already
    starts_at = datetime.combine(day, time(start_hour), tzinfo=tz)
    ends_at = starts_at + timedelta(hours=hours)
    fee = fee_for(amenity, starts_at, ends_at, tz)
    db.session.add(Booking(estate_id=amenity.estate_id, amenity_id=amenity.id, unit_id=unit.id,
                           user_id=user.id if user else None, starts_at=starts_at, ends_at=ends_at, guests=guests,
                           places=1 + guests, exclusive=amenity.exclusive, notes=notes, status=status,
                           fee_minor=fee, deposit_minor=amenity.deposit_minor, currency=amenity.currency))



def _seed_amenities(gp: Estate, gp_units: dict[str, Unit], gp_res: User, lf: Estate, lf_units: dict[str, Unit],
                    lf_res: User) -> None:
    """Greenpark's pool, event hall and tennis court; Las Flores' pool and party room; a few
    weeks of past and future bookings (only when the estate has none yet)."""
    every_day = {str(d): [["07:00", "21:00"]] for d in range(7)}
    pool = _amenity(gp, "Swimming pool", amenity_type=AmenityType.POOL, exclusive=False, capacity=20,
                    description="Outdoor pool, 25 m, lifeguard on duty at weekends.",
                    rules="Shower before swimming. No glass by the pool. Children under 12 with an adult.",
                    opening_hours={str(d): [["06:00", "12:00"], ["14:00", "20:00"]] for d in range(7)},
                    slot_minutes=60, min_minutes=60, max_minutes=180, advance_days=14, cancel_cutoff_hours=2,
                    fee_mode=FeeMode.PER_HOUR, fee_minor=150_000, max_guests=4, max_hours_week=6)
    hall = _amenity(gp, "Event hall", amenity_type=AmenityType.HALL, exclusive=True, capacity=120,
                    description="Air-conditioned hall with a kitchen, tables and chairs for 120.",
                    rules="Music off by 22:00. Leave the hall as you found it.",
                    opening_hours={str(d): [["08:00", "23:00"]] for d in range(7)}, slot_minutes=60,
                    min_minutes=180, max_minutes=15 * 60, advance_days=90, cancel_cutoff_hours=24,
                    fee_mode=FeeMode.PER_DAY, fee_minor=5_000_000, deposit_minor=2_000_000, requires_approval=True,
                    max_guests=119, max_bookings_month=2)
    court = _amenity(gp, "Tennis court", amenity_type=AmenityType.COURT, exclusive=True, capacity=4,
                     description="Floodlit hard court.", rules="Tennis shoes only.", opening_hours=every_day,
                     slot_minutes=60, min_minutes=60, max_minutes=120, advance_days=14, cancel_cutoff_hours=1,
                     fee_mode=FeeMode.FREE, fee_minor=0, max_guests=3, max_bookings_week=2)
    piscina = _amenity(lf, "Piscina", amenity_type=AmenityType.POOL, exclusive=False, capacity=15,
                       description="Piscina climatizada.", rules="Uso de gorro obligatorio.",
                       opening_hours={str(d): [["07:00", "19:00"]] for d in range(7)}, slot_minutes=60,
                       min_minutes=60, max_minutes=120, advance_days=14, cancel_cutoff_hours=2,
                       fee_mode=FeeMode.PER_HOUR, fee_minor=2_500, max_guests=3)
    salon = _amenity(lf, "Salón social", amenity_type=AmenityType.HALL, exclusive=True, capacity=60,
                     description="Salón con cocina y terraza.", rules="Música hasta las 22:00.",
                     opening_hours={str(d): [["09:00", "22:00"]] for d in range(7)}, slot_minutes=60,
                     min_minutes=120, max_minutes=13 * 60, advance_days=60, cancel_cutoff_hours=48,
                     fee_mode=FeeMode.FLAT, fee_minor=50_000, deposit_minor=25_000, requires_approval=True,
                     max_guests=59)
    db.session.flush()
    if db.session.scalar(sa.select(Booking.id).where(Booking.estate_id.in_((gp.id, lf.id))).limit(1)) is None:
        today = datetime.now(ZoneInfo(gp.timezone)).date()
        others = [u for n, u in sorted(gp_units.items()) if n != "A12"]
        for week in range(-3, 3):
            for n, unit in enumerate(others[:6]):
                day = today + timedelta(days=7 * week + n)
                if day == today:
                    continue
                past = day < today
                _demo_booking(pool, unit, None, day, 9 + n % 3, 2, BookingStatus.COMPLETED if past else
                              BookingStatus.CONFIRMED, guests=n % 3)
                if n % 2 == 0 and week != 0:
                    _demo_booking(court, unit, None, day, 17 + n % 3, 1, BookingStatus.NO_SHOW if past and n == 4
                                  else BookingStatus.COMPLETED if past else BookingStatus.CONFIRMED, guests=1)
        _demo_booking(court, others[7], None, today, 18, 1, BookingStatus.CONFIRMED, guests=1)
        _demo_booking(hall, others[8], None, today, 12, 6, BookingStatus.CONFIRMED, guests=40,
                      notes="Birthday party")
        _demo_booking(hall, others[9], None, today + timedelta(days=10), 10, 8, BookingStatus.PENDING, guests=80,
                      notes="Naming ceremony")
        _demo_booking(hall, gp_units["A12"], gp_res, today - timedelta(days=20), 14, 6, BookingStatus.COMPLETED,
                      guests=30, notes="Family reunion")
        lf_today = datetime.now(ZoneInfo(lf.timezone)).date()
        lf_others = [u for n, u in sorted(lf_units.items()) if n != "Casa 7"]
        for week in range(-2, 3):
            _demo_booking(piscina, lf_others[week % 5], None, lf_today + timedelta(days=7 * week + 1), 10, 2,
                          BookingStatus.COMPLETED if week < 0 else BookingStatus.CONFIRMED, guests=2)
        _demo_booking(salon, lf_others[3], None, lf_today + timedelta(days=12), 15, 5, BookingStatus.PENDING,
                      guests=25, notes="Cumpleaños infantil")
        _demo_booking(salon, lf_units["Casa 7"], lf_res, lf_today - timedelta(days=9), 12, 4,
                      BookingStatus.COMPLETED, guests=20, notes="Almuerzo familiar")
    db.session.commit()


def seed_demo() -> list[tuple[str, str, str]]:
    with _quick_sqlite_commits():
        return _seed_demo()


def _seed_demo() -> list[tuple[str, str, str]]:
    rng = random.Random(20261123)
    pw = hash_password(DEMO_PASSWORD)
    today = date.today()

    enterprise = _user("enterprise@demo.test", "Ada Enterprise", platform_role=PlatformRole.ENTERPRISE_ADMIN,
                       password_hash=pw)

    # GreenPark Estate, Lagos
    gp = _estate("greenpark", name="GreenPark Estate", address="12 Admiralty Way, Lekki Phase 1",
                 city="Lagos", country="NG", timezone="Africa/Lagos", currency="NGN",
                 default_language="en", brand_color="#1e6b52")
    gp_admin = _user("admin@greenpark.test", "Bisi Adewale", phone="+2348000000101", password_hash=pw)
    gp_guard = _user("guard@greenpark.test", "Sule Garba", phone="+2348000000201", password_hash=pw)
    gp_res = _user("resident@greenpark.test", "Tunde Bakare", phone="+2348000000301", password_hash=pw)
    _member(gp_admin, gp, Role.ESTATE_ADMIN)
    _member(gp_guard, gp, Role.GUARD)
    _member(gp_res, gp, Role.RESIDENT)
    gp_sup = _user("supervisor@greenpark.test", "Ngozi Eze", phone="+2348000000202", password_hash=pw)
    _member(gp_sup, gp, Role.GUARD, supervisor=True)
    gp.join_code = gp.join_code or "GRNPRK"
    if gp.gate_names in (None, "", "Main gate"):
        gp.gate_names = "Main gate\nBack gate"

    blocks = "ABCD"
    numbers = [(f"{b}{n}", b, str((n - 1) // 4 + 1), UnitType.APARTMENT if n % 3 else UnitType.TERRACE)
               for b in blocks for n in range(1, 13)]
    gp_units = _units(gp, numbers)  # 48 units; A12 among them
    _resident(gp, gp_units["A12"], gp_res.full_name, ResidentType.OWNER, user=gp_res, phone=gp_res.phone,
              email=gp_res.email, moved_in=today - timedelta(days=900))
    db.session.flush()
    for r in gp_units["A12"].residents:
        if r.user_id == gp_res.id and not r.emergency_contact_name:
            r.emergency_contact_name, r.emergency_contact_phone = "Funke Bakare", "+2348000000399"
    _vehicle(gp, gp_units["A12"], "LND 452 KJ", "Toyota", "Camry", "Silver")
    _vehicle(gp, gp_units["A12"], "EKY 118 AA", "Honda", "CR-V", "Black")
    _card(gp, gp_units["A12"], "GP-0001", AccessCardStatus.ISSUED)
    _card(gp, gp_units["A12"], "GP-0002", AccessCardStatus.ISSUED)
    _card(gp, gp_units["A12"], None, AccessCardStatus.REQUESTED)
    _resident(gp, gp_units["A12"], "Kemi Bakare", ResidentType.FAMILY, moved_in=today - timedelta(days=900))
    _resident(gp, gp_units["A12"], "Grace Udo", ResidentType.STAFF, phone="+2348000000302",
              moved_in=today - timedelta(days=200))
    # 60+ more residents spread over the other units, a few units left vacant.
    occupied = [u for n, u in sorted(gp_units.items()) if n != "A12" and not n.endswith(("11", "7"))]
    for i, unit in enumerate(occupied):
        head = f"{rng.choice(NG_FIRST)} {rng.choice(NG_LAST)}"
        _resident(gp, unit, head, ResidentType.OWNER if i % 3 else ResidentType.TENANT,
                  phone=f"+23480100{i:05d}", moved_in=today - timedelta(days=rng.randint(30, 2000)))
        if i % 2 == 0:
            _resident(gp, unit, f"{rng.choice(NG_FIRST)} {head.split()[1]}", ResidentType.FAMILY,
                      moved_in=today - timedelta(days=rng.randint(30, 2000)))
        if i % 3 == 0:
            make, model = rng.choice([("Toyota", "Corolla"), ("Lexus", "RX 350"), ("Kia", "Rio"), ("Honda", "Accord")])
            _vehicle(gp, unit, f"LSD {100 + i} {rng.choice(['AB', 'KJ', 'XY'])}", make, model,
                     rng.choice(["White", "Black", "Grey", "Blue"]))

    # Join requests: five waiting for the admin, one that expired unanswered.
    sign_ups = [("B5", "amaka.obi", "Amaka Obi", 2), ("C3", "yusuf.bello", "Yusuf Bello", 5),
                ("D9", "tope.alade", "Tope Alade", 9), ("C7", "ifeanyi.nnaji", "Ifeanyi Nnaji", 12),
                ("D11", "sade.lawal", "Sade Lawal", 20)]
    for n, (unit_no, handle, name, days) in enumerate(sign_ups):
        _sign_up(gp, gp_units[unit_no], f"{handle}@example.test", name, f"+23480555000{n:02d}", days,
                 ApprovalStatus.PENDING, pw)
    _sign_up(gp, gp_units["B11"], "late.comer@example.test", "Late Comer", "+2348055500099", 45,
             ApprovalStatus.EXPIRED, pw)

    _seed_visits(gp, gp_units, gp_res, gp_guard, random.Random(5))

    # Residencial Las Flores, Guatemala City
    lf = _estate("lasflores", name="Residencial Las Flores", address="Km 14.5 Carretera a El Salvador",
                 city="Ciudad de Guatemala", country="GT", timezone="America/Guatemala", currency="GTQ",
                 default_language="es", brand_color="#8a3b8f")
    lf_admin = _user("admin@lasflores.test", "Mariela Castillo", phone="+50255550101", password_hash=pw)
    lf_res = _user("resident@lasflores.test", "Andrés Morales", phone="+50255550301", password_hash=pw)
    _member(lf_admin, lf, Role.ESTATE_ADMIN)
    _member(lf_res, lf, Role.RESIDENT)
    lf.join_code = lf.join_code or "FLORES"
    if lf.gate_names in (None, "", "Main gate"):
        lf.gate_names = "Garita principal\nGarita de servicio"
    lf_units = _units(lf, [(f"Casa {n}", "", "", UnitType.HOUSE) for n in range(1, 21)])
    _resident(lf, lf_units["Casa 7"], lf_res.full_name, ResidentType.OWNER, user=lf_res, phone=lf_res.phone,
              email=lf_res.email, moved_in=today - timedelta(days=600))
    for n in range(1, 21):
        if n in (7, 13):
            continue
        _resident(lf, lf_units[f"Casa {n}"], f"{rng.choice(GT_FIRST)} {rng.choice(GT_LAST)}",
                  ResidentType.OWNER, phone=f"+5025556{n:04d}", moved_in=today - timedelta(days=rng.randint(30, 2000)))

    db.session.commit()
    accounts = [
        (enterprise.email, "Enterprise admin", "/enterprise"),
        (gp_admin.email, "Estate admin", "/e/greenpark/admin"),
        (gp_guard.email, "Guard", f"/e/greenpark/gate (phone {gp_guard.phone})"),
        (gp_res.email, "Resident", f"/e/greenpark/home (phone {gp_res.phone}, unit A12)"),
        (gp_sup.email, "Guard supervisor", f"/e/greenpark/gate (phone {gp_sup.phone})"),
        (lf_admin.email, "Estate admin", "/e/lasflores/admin"),
        (lf_res.email, "Resident", "/e/lasflores/home"),
    ]
    _seed_amenities(gp, gp_units, gp_res, lf, lf_units, lf_res)
    _seed_billing(gp, gp_units, lf, {gp.id: gp_admin, lf.id: lf_admin},
                  {gp.id: ("A12", gp_res), lf.id: ("Casa 7", lf_res)})  # last: it leaves the session empty
    return accounts
