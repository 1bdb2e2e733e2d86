"""Email by SMTP, sent to a real local SMTP server (aiosmtpd) and read as it arrived:
HTML and plain-text parts, the estate's name and colour, a footer in the recipient's
language saying why; the reset link of "forgot password" works; a server that is down
means a retry, an address it refuses means FAILED."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.integrations import messaging, outbox
from portal.models import Estate, MessageStatus, OutboxMessage, Role
from tests.browser.conftest import _free_port
from tests.smtp_server import local_smtp, parts

# Delivery runs after a real commit and reads the rows from a session of its own.
pytestmark = pytest.mark.real_commits


@pytest.fixture
def smtp(app):
    with local_smtp(refuse=("nobody@example.test",)) as inbox:
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=inbox.port, MAIL_FROM="GreenPark <gate@greenpark.test>",
                          MESSAGE_DELIVERY="portal.integrations.delivery:queue")  # jobs run at once (immediate)
        yield inbox


def _rows(dbs) -> list[OutboxMessage]:
    with dbs() as s:
        rows = list(s.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))
        s.expunge_all()
        return rows


def test_forgot_password_mails_a_working_reset_link(app, client, make, smtp, dbs, login):
    make.user("ada@example.test", full_name="Ada Obi")
    assert client.post("/password/forgot", data={"email": "ada@example.test"}).status_code in (200, 302)
    [mail] = smtp.wait_for(1)
    assert smtp.envelopes == [("gate@greenpark.test", ["ada@example.test"])]
    assert (mail["From"], mail["To"], mail["Subject"]) == ("GreenPark <gate@greenpark.test>", "ada@example.test",
                                                           "Reset your Gatehouse password")
    assert mail.get_content_type() == "multipart/alternative"
    text, html = parts(mail)
    link = re.search(r"http://localhost(/password/reset/\S+)", text).group(1)
    assert f'href="http://localhost{link}"' in html and "Hello Ada Obi" in html
    assert "someone asked to reset the password" in text and "someone asked to reset the password" in html
    [row] = _rows(dbs)
    assert (row.status, row.provider, row.provider_message_id, row.attempts) == (
        MessageStatus.SENT, "SMTP", mail["Message-ID"], 1)

    assert client.get(link).status_code == 200
    done = client.post(link, data={"password": "a-new-secret-9", "confirm": "a-new-secret-9"})
    assert done.status_code == 302, done.get_data(as_text=True)[:500]
    login("ada@example.test", "a-new-secret-9")


def test_an_estate_email_has_its_name_colour_and_a_footer_in_the_recipients_language(app, make, smtp, dbs):
    estate = make.estate("flores", name="Residencial Las Flores", brand_color="#8a3b8f", default_language="es")
    with app.app_context():
        messaging.send_email("rosa@example.test", "Invitación a Residencial Las Flores",
                             "Hola Rosa,\n\n<b>Abra</b> este enlace: https://portal.example/i/abc?x=1&y=2\nGracias.",
                             estate=db.session.get(Estate, estate.id), language="es", reason="invitation")
        db.session.commit()
    [mail] = smtp.wait_for(1)
    text, html = parts(mail)
    assert "background:#8a3b8f" in html and "Residencial Las Flores" in html
    assert "Recibió este correo porque lo invitaron a Residencial Las Flores en Gatehouse." in html
    assert "&lt;b&gt;Abra&lt;/b&gt;" in html and "<b>" not in html  # the body is text, escaped
    assert '<a href="https://portal.example/i/abc?x=1&amp;y=2"' in html and "<br>" in html
    assert text.startswith("Residencial Las Flores\n\nHola Rosa,\n\n<b>Abra</b> este enlace: "
                           "https://portal.example/i/abc?x=1&y=2\nGracias.")
    assert text.rstrip().endswith("Recibió este correo porque lo invitaron a Residencial Las Flores en Gatehouse.")
    assert '<html lang="es">' in html


def test_a_notification_email_says_where_to_turn_it_off(app, make, smtp):
    app.config["PUBLIC_BASE_URL"] = "https://gate.example"
    estate = make.estate("alpha", name="Alpha Court", brand_color="red;x")
    with app.app_context():
        messaging.send_email("ada@example.test", "Your visitor has arrived", "Musa arrived.",
                             estate=db.session.get(Estate, estate.id), language="en", reason="visitor_arrived")
        db.session.commit()
    [mail] = smtp.wait_for(1)
    text, html = parts(mail)
    assert "you live at Alpha Court and chose to be told of this by email" in text
    assert "https://gate.example/account/" in text and 'href="https://gate.example/account/"' in html
    assert "background:#1e6b52" in html  # an unusable colour falls back to the default


def test_a_server_that_is_down_means_a_retry_and_a_refused_address_means_failed(app, make, smtp, dbs):
    with app.app_context():
        refused = messaging.send_email("nobody@example.test", "Hello", "Refused", reason="password_reset").id
        db.session.commit()
    assert _rows(dbs)[0].status == MessageStatus.FAILED
    assert "refused nobody@example.test" in _rows(dbs)[0].last_error and _rows(dbs)[0].attempts == 1

    app.config["MAIL_PORT"] = _free_port()  # nothing listens there
    with app.app_context():
        later = messaging.send_email("ada@example.test", "Hello", "Later").id
        db.session.commit()
    row = next(r for r in _rows(dbs) if r.id == later)
    assert (row.status, row.attempts, row.provider) == (MessageStatus.QUEUED, 1, "SMTP")
    assert "refused" in row.last_error.lower() and row.next_attempt_at > row.created_at
    assert refused != later and outbox.BACKOFF[0].total_seconds() == 60


def test_a_resident_invited_by_email_gets_it_by_smtp(app, client, estate_pair, login, smtp, dbs):
    login("admin@alpha.test")
    response = client.post("/e/alpha/admin/invitations/", data={
        "role": Role.RESIDENT.value, "full_name": "Bola Ade", "email": "bola@example.test",
        "unit_id": estate_pair.alpha.unit.id, "resident_type": "OWNER"})
    assert response.status_code in (200, 302), response.get_data(as_text=True)[:800]
    [mail] = smtp.wait_for(1)
    text, html = parts(mail)
    assert mail["To"] == "bola@example.test" and "Alpha Court" in html
    assert "you were invited to Alpha Court on Gatehouse" in text
