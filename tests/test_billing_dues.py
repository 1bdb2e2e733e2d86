"""Dues-linked restrictions: a unit far behind with its dues can issue only delivery passes
(after a warning and a grace period), its residents see why and how to clear it, an admin
can lift it (audited), the way home is never blocked; the setting is off by default."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from portal.billing import restrictions
from portal.extensions import db
from portal.models import (
    AccessCard,
    AuditLog,
    BillingSettings,
    DuesOverride,
    Estate,
    Invoice,
    PassType,
    Visit,
)
from tests.billing_support import add_charge, generate, invoices_of, set_billing

LAGOS = ZoneInfo("Africa/Lagos")


def _today() -> date:
    return datetime.now(LAGOS).date()


def _local(days: int = 1) -> str:
    return (datetime.now(LAGOS) + timedelta(days=days)).date().isoformat()


def _pass_form(unit_id: int, **overrides) -> dict:
    data = {"unit_id": unit_id, "pass_type": "SINGLE_USE", "purpose": "Lunch",
            "guests-0-full_name": "Tunde Bakare", "guests-0-phone": "0803 123 4567",
            "start_date": _local(1), "start_time": "10:00", "end_date": _local(1), "end_time": "14:00"}
    data.update(overrides)
    return data


def _restrictions(app, estate, enabled: bool = True, after: int = 60, grace: int = 7) -> None:
    with app.app_context():
        row = db.session.get(BillingSettings, estate.id)
        row.restrict_enabled, row.restrict_after_days, row.restrict_grace_days = enabled, after, grace
        db.session.commit()


def _overdue_by(app, invoice_id: int, days: int) -> None:
    with app.app_context():
        db.session.execute(sa.update(Invoice).where(Invoice.id == invoice_id)
                           .values(due_date=_today() - timedelta(days=days)))
        db.session.commit()


@pytest.fixture
def behind(app, estate_pair, make):
    """Alpha's A1 (the resident's) billed ₦45,000 (December); A2 billed too. Restrictions on
    (60 days, 7 days' grace); the invoices' due dates are moved by each test."""
    a = estate_pair.alpha
    set_billing(app, a.estate, prefix="AL")
    make.unit(a.estate, "A2")
    add_charge(app, a.estate, "Service charge", 4_500_000)
    generate(app, a.estate)
    _restrictions(app, a.estate)
    found = {i.unit: i for i in invoices_of(app, a.estate)}
    return found


def _visits(app) -> list:
    with app.app_context():
        return list(db.session.scalars(sa.select(Visit.pass_type).order_by(Visit.id)))


# --- the rule ------------------------------------------------------------------------------------


def test_the_setting_is_off_by_default_and_off_restricts_nothing(app, estate_pair, behind, client, login):
    _overdue_by(app, behind["A1"].id, 200)
    _restrictions(app, estate_pair.alpha.estate, enabled=False)
    with app.app_context():
        assert restrictions.restriction_for(estate_pair.alpha.unit.id) is None
    login("resident@alpha.test")
    response = client.post("/e/alpha/home/visits/new", data=_pass_form(estate_pair.alpha.unit.id))
    assert response.status_code == 302 and _visits(app) == [PassType.SINGLE_USE]
    assert "dues-banner" not in client.get("/e/alpha/home/").get_data(as_text=True)


def test_a_new_estate_has_restrictions_off(app, make):
    estate = make.estate("fresh")
    set_billing(app, estate, prefix="FR")
    with app.app_context():
        row = db.session.get(BillingSettings, estate.id)
        assert (row.restrict_enabled, row.reminders_enabled) == (False, True)


def test_a_warning_first_then_the_restriction_after_the_grace_period(app, estate_pair, behind):
    unit_id = estate_pair.alpha.unit.id
    with app.app_context():
        _overdue_by(app, behind["A1"].id, 60)  # 60 days overdue: not more than 60
        assert restrictions.standing_for(unit_id) is None
        _overdue_by(app, behind["A1"].id, 61)  # past the threshold: warned, 7 days' grace
        standing = restrictions.standing_for(unit_id)
        assert standing.state == restrictions.State.WARNING and restrictions.restriction_for(unit_id) is None
        assert standing.since == _today() + timedelta(days=7)
        _overdue_by(app, behind["A1"].id, 67)  # the grace period's last day
        assert restrictions.restriction_for(unit_id) is None
        _overdue_by(app, behind["A1"].id, 68)
        restriction = restrictions.restriction_for(unit_id)
        assert restriction.restricted and restriction.since == _today()
        assert restriction.amount_owed_minor == 4_500_000 and restriction.currency == "NGN"
        assert restriction.oldest_number == behind["A1"].number and restriction.days_overdue == 68
        assert "₦45,000.00" in str(restriction.reason) and "delivery" in str(restriction.reason)
        # Another unit of the estate, not behind, is not touched.
        assert restrictions.restriction_for(behind["A2"].unit_id) is None


def test_paying_the_overdue_bill_lifts_it_at_once(app, estate_pair, behind):
    from portal.billing.payments import apply_payment
    from portal.models import Payment, PaymentMethod

    _overdue_by(app, behind["A1"].id, 90)
    with app.app_context():
        assert restrictions.restriction_for(estate_pair.alpha.unit.id) is not None
        payment = Payment(estate_id=estate_pair.alpha.estate.id, unit_id=estate_pair.alpha.unit.id,
                          amount_minor=4_500_000, currency="NGN", method=PaymentMethod.CASH, tx_ref="dues-test-1")
        db.session.add(payment)
        db.session.commit()
        apply_payment(payment.id)
        assert restrictions.restriction_for(estate_pair.alpha.unit.id) is None


# --- visitor passes -------------------------------------------------------------------------------


def test_a_restricted_unit_is_refused_a_visitor_pass_with_the_reason(app, estate_pair, behind, client, login):
    _overdue_by(app, behind["A1"].id, 90)
    login("resident@alpha.test")
    response = client.post("/e/alpha/home/visits/new", data=_pass_form(estate_pair.alpha.unit.id))
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "Unit A1 is restricted for unpaid dues (₦45,000.00 owed): only delivery passes can be issued" in html
    assert _visits(app) == []
    # Every kind but a delivery is refused the same way.
    for kind in ("MULTI_ENTRY", "RECURRING"):
        refused = client.post("/e/alpha/home/visits/new", data=_pass_form(
            estate_pair.alpha.unit.id, pass_type=kind, max_entries="3", weekdays="12345",
            daily_start="08:00", daily_end="18:00", end_date=_local(30)))
        assert refused.status_code == 422
    assert _visits(app) == []


def test_a_restricted_unit_may_still_issue_a_delivery_pass(app, estate_pair, behind, client, login):
    _overdue_by(app, behind["A1"].id, 90)
    login("resident@alpha.test")
    response = client.post("/e/alpha/home/visits/new", data=_pass_form(
        estate_pair.alpha.unit.id, pass_type="DELIVERY", purpose="Groceries", end_time="12:00",
        **{"guests-0-full_name": "", "guests-0-phone": ""}))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert _visits(app) == [PassType.DELIVERY]


def test_the_refusal_reads_in_spanish(app, estate_pair, behind, client, login):
    _overdue_by(app, behind["A1"].id, 90)
    login("resident@alpha.test")
    client.post("/language", data={"lang": "es", "next": "/e/alpha/home/"})
    html = unescape(client.post("/e/alpha/home/visits/new", data=_pass_form(estate_pair.alpha.unit.id))
                    .get_data(as_text=True))
    assert "La unidad A1 está restringida por cuotas impagas" in html
    banner = unescape(client.get("/e/alpha/home/").get_data(as_text=True))
    assert "Ver y pagar mis facturas" in banner


def test_the_way_home_is_never_blocked(app, estate_pair, behind, make, client, login):
    """Passes issued before the restriction still let their visitors in at the gate, the
    residents' own access cards can be asked for, and their pages all open."""
    from portal.gate import service as gate
    from portal.households import service as households
    from portal.models import User, utcnow

    a = estate_pair.alpha
    earlier = make.visit(a.estate, a.unit, a.resident)
    _overdue_by(app, behind["A1"].id, 120)
    with app.app_context():
        assert restrictions.restriction_for(a.unit.id) is not None
        estate = db.session.get(Estate, a.estate.id)
        visit = db.session.get(Visit, earlier.id)
        assert gate.check(estate, visit, utcnow()).refusal is None
        households.request_card(db.session.get(User, a.resident.id), estate, a.unit.id)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AccessCard)) == 1
    login("resident@alpha.test")
    for path in ("/e/alpha/home/", "/e/alpha/home/visits/", "/e/alpha/home/bills/", f"/e/alpha/home/visits/{earlier.id}"):
        assert client.get(path).status_code == 200, path


def test_an_admin_may_still_issue_a_pass_for_the_unit(app, estate_pair, behind, client, login):
    _overdue_by(app, behind["A1"].id, 90)
    login("admin@alpha.test")
    response = client.post("/e/alpha/admin/visits/new", data=_pass_form(estate_pair.alpha.unit.id))
    assert response.status_code == 302
    assert _visits(app) == [PassType.SINGLE_USE]


# --- the banner ----------------------------------------------------------------------------------


def test_the_banner_says_why_and_links_to_the_bills(app, estate_pair, behind, client, login):
    _overdue_by(app, behind["A1"].id, 62)
    login("resident@alpha.test")
    html = unescape(client.get("/e/alpha/home/").get_data(as_text=True))
    assert 'data-state="WARNING"' in html and "Unit A1 will be restricted on" in html
    _overdue_by(app, behind["A1"].id, 90)
    html = unescape(client.get("/e/alpha/home/visits/").get_data(as_text=True))
    banner = html.split('id="dues-banner-')[1].split("</aside>")[0]
    assert 'data-state="RESTRICTED"' in banner and "Unit A1 is restricted" in banner
    assert behind["A1"].number in banner and "₦45,000.00" in banner
    assert 'href="/e/alpha/home/bills/"' in banner
    # Not on another resident's pages (beta's resident, another estate).
    client.post("/logout")
    login("resident@beta.test")
    assert "dues-banner" not in client.get("/e/beta/home/").get_data(as_text=True)


def test_the_check_costs_the_pages_one_query(app, estate_pair, behind, client, login, count_queries):
    login("resident@alpha.test")
    client.get("/e/alpha/home/bills/")
    _restrictions(app, estate_pair.alpha.estate, enabled=False)
    with count_queries() as off:
        client.get("/e/alpha/home/bills/")
    _restrictions(app, estate_pair.alpha.estate, enabled=True)
    _overdue_by(app, behind["A1"].id, 90)
    with count_queries() as on:
        html = client.get("/e/alpha/home/bills/").get_data(as_text=True)
    assert "dues-banner" in html
    assert on.count == off.count  # one query either way (with the setting off it finds nothing)
    # Many more invoices (and units) cost nothing more.
    for period in ((2026, 9), (2026, 10), (2026, 11)):
        from portal.billing.periods import month

        generate(app, estate_pair.alpha.estate, month(*period))
    with count_queries() as more:
        client.get("/e/alpha/home/bills/")
    assert more.count == on.count
    # An HTMX fragment of the list renders no banner and asks nothing.
    with count_queries() as fragment:
        body = client.get("/e/alpha/home/bills/?page=1", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "dues-banner" not in body and fragment.count == more.count - 1


# --- the admin's override ------------------------------------------------------------------------


def _audit(app, action: str) -> list[AuditLog]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(AuditLog).where(AuditLog.action == action)))
        db.session.expunge_all()
        return rows


def test_an_override_lifts_the_restriction_and_is_audited(app, estate_pair, behind, client, login):
    unit_id = estate_pair.alpha.unit.id
    _overdue_by(app, behind["A1"].id, 90)
    login("admin@alpha.test")
    page = unescape(client.get(f"/e/alpha/admin/units/{unit_id}/").get_data(as_text=True))
    assert 'id="dues-state" data-state="RESTRICTED"' in page and "₦45,000.00 owed" in page
    refused = client.post(f"/e/alpha/admin/units/{unit_id}/dues-override", data={"reason": "  ", "until": ""})
    assert refused.status_code == 422 and "This field is required." in refused.get_data(as_text=True)
    until = _today() + timedelta(days=10)
    done = client.post(f"/e/alpha/admin/units/{unit_id}/dues-override",
                       data={"reason": "Paying in instalments", "until": until.isoformat()})
    assert done.status_code == 303
    with app.app_context():
        assert restrictions.restriction_for(unit_id) is None
    page = unescape(client.get(f"/e/alpha/admin/units/{unit_id}/").get_data(as_text=True))
    assert 'data-state="OVERRIDDEN"' in page and "Paying in instalments" in page
    entry = _audit(app, "dues_override.granted")[0]
    assert entry.after == {"unit": "A1", "reason": "Paying in instalments", "until": until.isoformat()}
    audit_page = unescape(client.get("/e/alpha/admin/audit/").get_data(as_text=True))
    assert "lifted the dues restriction of unit A1: Paying in instalments" in audit_page
    # The resident can invite again, and sees no banner.
    client.post("/logout")
    login("resident@alpha.test")
    assert client.post("/e/alpha/home/visits/new", data=_pass_form(unit_id)).status_code == 302
    assert "dues-banner" not in client.get("/e/alpha/home/").get_data(as_text=True)
    # Ended: restricted again, audited.
    client.post("/logout")
    login("admin@alpha.test")
    assert client.post(f"/e/alpha/admin/units/{unit_id}/dues-override/end").status_code == 303
    with app.app_context():
        assert restrictions.restriction_for(unit_id) is not None
    assert len(_audit(app, "dues_override.ended")) == 1
    client.post("/language", data={"lang": "es", "next": "/e/alpha/admin/"})
    audit_es = unescape(client.get("/e/alpha/admin/audit/").get_data(as_text=True))
    assert "levantó la restricción por cuotas de la unidad A1: Paying in instalments" in audit_es


def test_an_override_runs_out_on_its_last_day(app, estate_pair, behind):
    unit_id = estate_pair.alpha.unit.id
    _overdue_by(app, behind["A1"].id, 90)
    with app.app_context():
        db.session.add(DuesOverride(estate_id=estate_pair.alpha.estate.id, unit_id=unit_id, reason="Till yesterday",
                                    until=_today() - timedelta(days=1)))
        db.session.commit()
        assert restrictions.restriction_for(unit_id) is not None
        db.session.execute(sa.update(DuesOverride).values(until=_today()))
        db.session.commit()
        assert restrictions.restriction_for(unit_id) is None


def test_override_input_is_checked_and_scoped_to_the_estate(app, estate_pair, behind, client, login, make):
    unit_id = estate_pair.alpha.unit.id
    login("admin@alpha.test")
    past = client.post(f"/e/alpha/admin/units/{unit_id}/dues-override",
                       data={"reason": "x", "until": (_today() - timedelta(days=1)).isoformat()})
    assert past.status_code == 422 and "Choose a day from today to a year from now" in past.get_data(as_text=True)
    assert client.post(f"/e/alpha/admin/units/{unit_id}/dues-override", data={"reason": "x" * 301}).status_code == 422
    beta_unit = estate_pair.beta.unit.id
    assert client.post(f"/e/alpha/admin/units/{beta_unit}/dues-override", data={"reason": "x"}).status_code == 404
    assert client.post(f"/e/alpha/admin/units/{beta_unit}/dues-override/end").status_code == 404
    nothing = client.post(f"/e/alpha/admin/units/{unit_id}/dues-override/end", follow_redirects=True)
    assert "This unit has no override to end." in unescape(nothing.get_data(as_text=True))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(DuesOverride)) == 0


def test_a_second_override_replaces_the_first(app, estate_pair, behind, client, login):
    unit_id = estate_pair.alpha.unit.id
    login("admin@alpha.test")
    client.post(f"/e/alpha/admin/units/{unit_id}/dues-override", data={"reason": "First"})
    client.post(f"/e/alpha/admin/units/{unit_id}/dues-override", data={"reason": "Second"})
    with app.app_context():
        rows = db.session.execute(sa.select(DuesOverride.reason, DuesOverride.ended_at).order_by(DuesOverride.id)).all()
    assert [r.reason for r in rows] == ["First", "Second"] and rows[0].ended_at and rows[1].ended_at is None


# --- the settings --------------------------------------------------------------------------------


def test_the_admin_turns_restrictions_on_and_bad_days_change_nothing(app, estate_pair, behind, client, login):
    estate = estate_pair.alpha.estate
    _restrictions(app, estate, enabled=False)
    login("admin@alpha.test")
    page = client.get("/e/alpha/admin/billing/settings").get_data(as_text=True)
    assert 'id="dues-settings-form"' in page and re.search(r"checked[^>]*name=\"reminders_enabled\"", page)
    bad = client.post("/e/alpha/admin/billing/settings/dues", data={
        "restrict_enabled": "y", "restrict_after_days": "0", "restrict_grace_days": "7"})
    assert bad.status_code == 422 and "Enter a number of days from 1 to 365." in bad.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(BillingSettings, estate.id).restrict_enabled is False
    ok = client.post("/e/alpha/admin/billing/settings/dues", data={
        "restrict_enabled": "y", "restrict_after_days": "30", "restrict_grace_days": "0"})
    assert ok.status_code == 302
    with app.app_context():
        row = db.session.get(BillingSettings, estate.id)
        assert (row.restrict_enabled, row.restrict_after_days, row.restrict_grace_days, row.reminders_enabled) == (
            True, 30, 0, False)
    entry = _audit(app, "billing.dues_settings_updated")[0]
    assert entry.before["restrict_enabled"] is False and entry.after["restrict_after_days"] == 30
    _overdue_by(app, behind["A1"].id, 31)
    with app.app_context():
        assert restrictions.restriction_for(estate_pair.alpha.unit.id) is not None


def test_a_restricted_resident_cannot_let_a_walk_in_visitor_in(app, estate_pair, behind):
    """A walk-in approved by a resident becomes a visitor pass: refused the same way, and
    the walk-in stays waiting (the guard can still call the admin)."""
    from portal.gate import walkins
    from portal.models import User, WalkIn, WalkInStatus, utcnow

    _overdue_by(app, behind["A1"].id, 90)
    with app.app_context():
        estate = db.session.get(Estate, estate_pair.alpha.estate.id)
        guard = db.session.get(User, estate_pair.alpha.guard.id)
        walk_in = walkins.create_walk_in(guard, estate, walkins.WalkInData(
            visitor_name="Bola Ahmed", unit_number="A1", phone="0803 111 2222", plate="", purpose="Plumber",
            people_count=1, gate="Main gate"), utcnow())
        resident = db.session.get(User, estate_pair.alpha.resident.id)
        with pytest.raises(restrictions.UnitRestricted) as refused:
            walkins.decide(resident, estate, walk_in.id, True, "", utcnow())
        assert "only delivery passes can be issued" in str(refused.value.message)
        assert db.session.get(WalkIn, walk_in.id).status == WalkInStatus.PENDING
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Visit)) == 0


def test_a_restricted_unit_is_refused_an_amenity_booking_with_the_reason(app, estate_pair, behind):
    from portal.amenities import bookings
    from portal.amenities.bookings import BookingRefused, BookingRequest
    from portal.models import Booking, User
    from tests.amenity_support import add_amenity

    a = estate_pair.alpha
    court = add_amenity(app, a.estate)
    start = (datetime.now(LAGOS) + timedelta(days=2)).replace(hour=9, minute=0, second=0, microsecond=0)

    def book():
        with app.app_context():
            person = db.session.get(User, a.resident.id)
            estate = db.session.get(Estate, a.estate.id)
            return bookings.book(person, estate, court,
                                 BookingRequest(start, start + timedelta(hours=1), 0, "")).status.value

    _overdue_by(app, behind["A1"].id, 61)  # warned only: may still book
    assert book() == "CONFIRMED"
    _overdue_by(app, behind["A1"].id, 68)  # restricted
    start += timedelta(days=1)
    with app.app_context():
        count = db.session.scalar(sa.select(sa.func.count(Booking.id)))
        with pytest.raises(BookingRefused) as refused:
            book()
        assert str(refused.value.message) == (
            "Unit A1 is restricted for unpaid dues (₦45,000.00 owed): amenities cannot be booked until the "
            "overdue bills are paid.")
        assert db.session.scalar(sa.select(sa.func.count(Booking.id))) == count
