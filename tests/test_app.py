"""The app as a whole: configuration, health, error pages, migrations, demo data."""

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from cryptography.fernet import Fernet
from flask import flash

from portal import create_app
from portal.config import ConfigError
from portal.extensions import db
from portal.models import (
    Approval,
    ApprovalStatus,
    Estate,
    Invoice,
    InvoiceStatus,
    Membership,
    Payment,
    PaymentAllocation,
    Resident,
    Role,
    Unit,
    User,
    Vehicle,
)


def test_production_refuses_the_development_secret(monkeypatch):
    monkeypatch.setenv("GATEHOUSE_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()
    monkeypatch.setenv("SECRET_KEY", "a-real-secret-value")
    with pytest.raises(ConfigError, match="INTEGRATION_KEYS"):
        create_app()
    monkeypatch.setenv("INTEGRATION_KEYS", Fernet.generate_key().decode())
    app = create_app()
    assert app.config["DEV_MODE"] is False and app.config["SESSION_COOKIE_SECURE"] is True


def test_health_reports_ok(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_health_reports_503_when_the_database_is_unreachable(tmp_path):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/x.db"})
    response = app.test_client().get("/health")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


def test_unknown_page_is_a_translated_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404 and b"Page not found" in response.data
    spanish = client.get("/no/such/page", headers={"Accept-Language": "es"})
    assert spanish.status_code == 404 and b'lang="es"' in spanish.data and b"Page not found" not in spanish.data


def test_htmx_error_is_a_fragment_for_the_message_area(client):
    response = client.get("/no/such/page", headers={"HX-Request": "true"})
    assert response.status_code == 404
    assert b"<html" not in response.data and b"Page not found" in response.data
    assert response.headers["HX-Retarget"] == "#messages"


def test_api_errors_use_the_json_envelope(client):
    response = client.get("/api/v1/nothing")
    assert response.status_code == 404
    assert response.get_json() == {
        "success": False, "error": {"code": "NOT_FOUND", "message": response.get_json()["error"]["message"], "details": None}}


@pytest.fixture
def extra_app(app, database_url):
    """A second app on the test database, to which a test may add routes."""
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "WTF_CSRF_ENABLED": False})


def test_unexpected_error_shows_a_500_page_and_rolls_back(extra_app):
    extra_app.config["SHOW_500_PAGE"] = True

    @extra_app.get("/_boom")
    def boom():
        db.session.add(Estate(slug="half", name="Half", country="NG", timezone="UTC", currency="NGN"))
        db.session.flush()
        raise RuntimeError("boom")

    response = extra_app.test_client().get("/_boom")
    assert response.status_code == 500
    assert b"Something went wrong" in response.data and b"Nothing was changed" in response.data
    assert b"RuntimeError" not in response.data
    with extra_app.app_context():
        assert db.session.scalar(sa.select(Estate).where(Estate.slug == "half")) is None


def test_flash_messages_travel_with_htmx_responses(extra_app):
    @extra_app.get("/_flash")
    def flash_view():
        flash("Saved it", "success")
        return "<p>done</p>"

    client = extra_app.test_client()
    response = client.get("/_flash", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert body.startswith("<p>done</p>")
    assert 'id="messages"' in body and 'hx-swap-oob="true"' in body and "Saved it" in body
    # and on a full page the flash shows in place
    client.get("/_flash")
    assert b"Saved it" in client.get("/login").data


def test_dev_outbox_exists_only_in_dev_mode(app, client):
    assert client.get("/dev/outbox").status_code == 200
    app.config["DEV_MODE"] = False
    assert client.get("/dev/outbox").status_code == 404


def test_vendored_front_end_files_are_served(client):
    html = client.get("/login").get_data(as_text=True)
    for path in ("/static/vendor/htmx-2.0.11/htmx.min.js", "/static/vendor/pico-2.1.1/pico.min.css"):
        assert path in html
        assert client.get(path).status_code == 200


@pytest.mark.filterwarnings("ignore:.*expression-based index")  # SQLite cannot reflect them
def test_migrations_match_the_models(app):
    """`flask db check`: the migrated schema has no drift from the models."""
    with app.app_context(), db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
    assert diff == []


def test_seed_demo_is_idempotent_and_complete(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "resident@greenpark.test" in first.output and "demo1234" in first.output

    def counts():
        with app.app_context():
            return {m.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(m))
                    for m in (Estate, User, Membership, Unit, Resident, Invoice, Payment, PaymentAllocation)}

    before = counts()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert counts() == before
    with app.app_context():
        gp = db.session.scalar(sa.select(Estate).where(Estate.slug == "greenpark"))
        lf = db.session.scalar(sa.select(Estate).where(Estate.slug == "lasflores"))
        assert (gp.timezone, gp.currency, gp.default_language) == ("Africa/Lagos", "NGN", "en")
        assert (lf.timezone, lf.currency, lf.default_language) == ("America/Guatemala", "GTQ", "es")
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Unit).where(Unit.estate_id == gp.id)) >= 40
        assert db.session.scalar(
            sa.select(sa.func.count()).select_from(Resident).where(Resident.estate_id == gp.id)) >= 60
        guard = db.session.scalar(sa.select(User).where(User.email == "guard@greenpark.test"))
        assert guard.phone == "+2348000000201"
        resident = db.session.scalar(sa.select(User).where(User.email == "resident@greenpark.test"))
        assert resident.phone == "+2348000000301"
        unit = db.session.scalar(sa.select(Unit).join(Resident).where(Resident.user_id == resident.id))
        assert unit.number == "A12"
        supervisor = db.session.scalar(sa.select(Membership).join(User).where(User.email == "supervisor@greenpark.test"))
        assert supervisor.role == Role.GUARD and supervisor.is_supervisor
        pending = db.session.scalars(sa.select(Approval).where(Approval.estate_id == gp.id)).all()
        assert sorted(a.status.value for a in pending).count("PENDING") == 5
        assert [a.status for a in pending].count(ApprovalStatus.EXPIRED) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Vehicle).where(Vehicle.estate_id == gp.id)) >= 10
        roles = {(m.user.email, m.estate.slug, m.role) for m in db.session.scalars(sa.select(Membership))}
        assert ("admin@lasflores.test", "lasflores", Role.ESTATE_ADMIN) in roles
        assert ("resident@lasflores.test", "lasflores", Role.RESIDENT) in roles
        # Six months of invoices in each estate, in its currency, paid as estates are paid.
        for estate, units in ((gp, 48), (lf, 20)):
            months = db.session.execute(
                sa.select(Invoice.period_start, sa.func.count()).where(Invoice.estate_id == estate.id)
                .group_by(Invoice.period_start).order_by(Invoice.period_start)).all()
            assert len(months) == 6 and {n for _, n in months} == {units}
            assert set(db.session.scalars(sa.select(Invoice.currency).where(Invoice.estate_id == estate.id))) == {
                estate.currency}
            past = sa.and_(Invoice.estate_id == estate.id, Invoice.period_start < months[-1][0])
            paid = db.session.scalar(sa.select(sa.func.count()).where(past, Invoice.status == InvoiceStatus.PAID))
            partial = db.session.scalar(sa.select(sa.func.count()).where(
                past, Invoice.amount_paid_minor > 0, Invoice.balance_minor > 0))
            unpaid = db.session.scalar(sa.select(sa.func.count()).where(
                past, Invoice.status == InvoiceStatus.OVERDUE, Invoice.amount_paid_minor == 0))
            assert paid > 3 * units and partial >= 3 and unpaid >= 5, (estate.slug, paid, partial, unpaid)
            # Every payment went through apply_payment (allocated, audited).
            payments = db.session.scalar(sa.select(sa.func.count()).select_from(Payment)
                                         .where(Payment.estate_id == estate.id))
            assert payments == db.session.scalar(sa.select(sa.func.count()).select_from(PaymentAllocation)
                                                 .where(PaymentAllocation.estate_id == estate.id))
        # The demo residents owe only this month's bill.
        for email in ("resident@greenpark.test", "resident@lasflores.test"):
            owed = db.session.scalars(
                sa.select(Invoice.status).join(Resident, Resident.unit_id == Invoice.unit_id).join(User)
                .where(User.email == email, Invoice.balance_minor > 0)).all()
            assert owed == [InvoiceStatus.ISSUED], email


@pytest.mark.parametrize(
    "email, home",
    [
        ("enterprise@demo.test", "/enterprise/"),
        ("admin@greenpark.test", "/e/greenpark/admin/"),
        ("guard@greenpark.test", "/e/greenpark/gate/"),
        ("resident@greenpark.test", "/e/greenpark/home/"),
        ("admin@lasflores.test", "/e/lasflores/admin/"),
        ("resident@lasflores.test", "/e/lasflores/home/"),
    ],
)
def test_every_demo_account_signs_in_and_lands_home(app, client, email, home):
    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    response = client.post("/login", data={"login": email, "password": "demo1234"})
    assert response.headers["Location"] == home
    assert client.get(home).status_code == 200


def test_demo_visits_say_what_the_gate_should_answer(app):
    from portal.models import Ban, Visit
    from portal.visits.rules import Refusal, entry_refusal

    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert runner.invoke(args=["seed-demo"]).exit_code == 0  # windows move with the clock, codes stay
    expected = {"DEMSNG22": None, "DEMRCE88": None, "DEMMNY33": None, "DEMXPD44": Refusal.PASS_EXPIRED,
                "DEMFTR77": Refusal.PASS_NOT_YET_VALID, "DEMRVK66": Refusal.PASS_REVOKED, "DEMBAN55": None}
    with app.app_context():
        from portal.models import utcnow

        visits = {v.visitor_code: v for v in db.session.scalars(sa.select(Visit).where(Visit.visitor_code.like("DEM%")))}
        recurring, delivery = visits.pop("DEMRCR23"), visits["DEMDLV45"]
        expected["DEMDLV45"] = None
        assert {code: entry_refusal(v, utcnow(), "Africa/Lagos") for code, v in visits.items()} == expected
        # The driver comes Monday to Saturday, 06:00-20:00 (whether that is now depends on the clock).
        assert (recurring.pass_type.value, recurring.weekdays, recurring.max_entries) == ("RECURRING", "123456", None)
        assert recurring.daily_start.hour == 6 and recurring.daily_end.hour == 20
        assert delivery.pass_type.value == "DELIVERY" and delivery.visitors[0].full_name == ""
        assert visits["DEMMNY33"].max_entries == 3
        assert visits["DEMBAN55"].visitors[0].phone == "+2348099999999"
        assert db.session.scalar(sa.select(Ban).where(Ban.phone == "+2348099999999")).scope.value == "ESTATE"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Visit).where(Visit.people_inside)) >= 3
