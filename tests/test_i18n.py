"""Language choice, and dates, numbers and money formatted for the locale."""

from datetime import UTC, datetime

import pytest
from flask import g
from flask_babel import force_locale

from portal.models import Role
from portal.web.i18n import datetime_filter, money


def test_accept_language_picks_spanish_when_nothing_else_says(client):
    page = client.get("/login", headers={"Accept-Language": "es-GT,es;q=0.9"})
    assert b'<html lang="es">' in page.data


def test_switcher_choice_is_remembered(client):
    client.post("/language", data={"lang": "es", "next": "/login"})
    assert b'<html lang="es">' in client.get("/login", headers={"Accept-Language": "en"}).data
    client.post("/language", data={"lang": "en", "next": "/login"})
    assert b'<html lang="en">' in client.get("/login").data


def test_unknown_language_is_ignored(client):
    response = client.post("/language", data={"lang": "xx", "next": "https://evil.test/"})
    assert response.headers["Location"] == "/"
    assert b'<html lang="en">' in client.get("/login").data


def test_estate_default_applies_when_the_user_has_no_preference(client, make, login):
    estate = make.estate("flores", default_language="es", timezone="America/Guatemala", currency="GTQ")
    make.user("ana@flores.test", estate=estate, role=Role.RESIDENT)
    login("ana@flores.test")
    assert b'<html lang="es">' in client.get("/e/flores/home/", headers={"Accept-Language": "en"}).data


def test_user_preference_beats_the_estate_default(client, make, login, dbs):
    estate = make.estate("flores", default_language="es")
    user = make.user("ana@flores.test", estate=estate, role=Role.RESIDENT)
    login("ana@flores.test")
    client.post("/language", data={"lang": "en", "next": "/e/flores/home/"})
    # The choice is saved on the account, so it follows the user to a new device.
    from portal.models import User

    with dbs() as s:
        assert s.get(User, user.id).preferred_language == "en"
    fresh = client.application.test_client()
    login("ana@flores.test", as_client=fresh)
    assert b'<html lang="en">' in fresh.get("/e/flores/home/").data



def test_a_language_chosen_before_signing_in_holds_for_that_session(client, make, login, dbs):
    from portal.models import User

    estate = make.estate("flores", default_language="es")
    ana = make.user("ana@flores.test", estate=estate, role=Role.ESTATE_ADMIN, preferred_language="en")
    client.post("/language", data={"lang": "es", "next": "/login"})
    login("ana@flores.test")
    assert b'<html lang="es">' in client.get("/e/flores/admin/").data
    with dbs() as s:
        assert s.get(User, ana.id).preferred_language == "en"  # not stored: another device keeps hers
    fresh = client.application.test_client()
    login("ana@flores.test", as_client=fresh)
    assert b'<html lang="en">' in fresh.get("/e/flores/admin/").data
    # Signing out keeps the page's language, but the next person signing in reads their own.
    client.post("/logout")
    make.user("bea@flores.test", estate=estate, role=Role.ESTATE_ADMIN, preferred_language="en")
    login("bea@flores.test")
    assert b'<html lang="en">' in client.get("/e/flores/admin/").data


@pytest.mark.parametrize(
    "locale, country, amount, currency, expected",
    [
        ("en", "NG", 1234567, "NGN", "₦12,345.67"),
        ("es", "GT", 1234567, "GTQ", "Q12,345.67"),
        ("en", "NG", 0, "NGN", "₦0.00"),
        ("es", None, 150050, "EUR", "1500,50€"),
        ("en", "GT", 99, "GTQ", "GTQ0.99"),
    ],
)
def test_money_is_integer_minor_units_formatted_for_the_locale_and_region(
    app, make, locale, country, amount, currency, expected
):
    estate = make.estate(country=country) if country else None
    with app.test_request_context(), force_locale(locale):
        g.estate = estate
        text = money(amount, currency).replace("\xa0", "").replace(".", ".", 1)
    assert text.replace(" ", "") in {expected, expected.replace("1500", "1.500")}


def test_times_are_shown_in_the_estates_timezone(app, make):
    estate = make.estate("flores", timezone="America/Guatemala")
    moment = datetime(2026, 1, 15, 18, 30, tzinfo=UTC)
    with app.test_request_context():
        g.estate = estate
        assert "12:30" in datetime_filter(moment, "short")  # UTC-6
    with app.test_request_context():
        g.estate = make.estate("lagos", timezone="Africa/Lagos")
        assert "19:30" in datetime_filter(moment, "short")  # UTC+1
