"""Managing the providers of the delivery channels (the settings pages and the integration
status page): enterprise admins keep the platform's list of each channel, an estate's
admins may keep their estate's own list, which replaces the platform's for that estate
(portal.integrations.settings.providers reads both).

Every function takes a `Scope`: the acting person and the estate whose list it is (None:
the platform's). A setting asked for outside its scope is NotFound (an estate admin never
learns of another estate's or of the platform's rows by id). Values are checked against
the kind's fields (portal.integrations.kinds), stored encrypted (portal.integrations.keys)
and never given back in full: pages get `Shown` settings, whose secrets are masked. Every
change and every test message is audited, without any secret.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import email_validator
import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.orm import contains_eager

from portal import audit
from portal.errors import FieldErrors, Forbidden, InvalidValue, NotFound
from portal.estates.access import EstateAccess
from portal.extensions import db
from portal.integrations import keys, messaging
from portal.integrations.kinds import (
    CHOICE,
    EMAIL_ADDRESS,
    FLAG,
    NUMBER,
    PHONE,
    URL,
    FieldSpec,
    KindSpec,
    flag,
    get_kind,
    kinds_for,
)
from portal.integrations.settings import MASK, TEST_REASON, from_configuration
from portal.models import Estate, IntegrationChannel, IntegrationSetting, OutboxMessage, User
from portal.phones import InvalidPhone, normalise_phone

CHANNELS = (IntegrationChannel.SMS, IntegrationChannel.EMAIL)
MAX_PER_CHANNEL = 10  # providers in one list (the platform's, or an estate's) of one channel
MAX_NAME = 80

REQUIRED = _l("This field is required.")
TOO_LONG = _l("Use at most %(max)d characters.")
BAD_URL = _l("Enter an address starting with https:// or http://.")
BAD_NUMBER = _l("Enter a whole number from %(low)d to %(high)d.")
BAD_CHOICE = _l("Choose one of the options.")
BAD_EMAIL = _l("Enter a valid email address, or a name and an address: GreenPark <gate@greenpark.example>.")
BAD_PHONE = _l("Enter a phone number in international format, for example +15005550006.")
BAD_HEADERS = _l("Enter a JSON object of names and texts, for example {\"Authorization\": \"Bearer …\"}.")
BAD_SENDER_ID = _l("Use 3 to 11 letters or digits.")
BAD_TWILIO_SID = _l("A Twilio Account SID is AC followed by 32 letters and digits.")
TLS_AND_SSL = _l("Choose STARTTLS or TLS from the start, not both.")
TOO_MANY = _l("A list can hold at most %(max)d providers of a channel.")


# --- who acts where ------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """The acting person and whose list it is: an estate's, or the platform's (None)."""

    actor: User
    estate: Estate | None = None

    @property
    def estate_id(self) -> int | None:
        return self.estate.id if self.estate is not None else None

    @property
    def is_platform(self) -> bool:
        return self.estate is None


def platform_scope(actor: User) -> Scope:
    if not actor.is_enterprise_admin:
        raise Forbidden(_l("Only enterprise admins may manage the platform's providers."))
    return Scope(actor)


def estate_scope(access: EstateAccess) -> Scope:
    if not access.administers:
        raise Forbidden()
    return Scope(access.user, access.estate)


def _in_scope(scope: Scope):
    if scope.is_platform:
        return IntegrationSetting.estate_id.is_(None)
    return IntegrationSetting.estate_id == scope.estate_id


# --- how a setting is shown ----------------------------------------------------------


def mask(value: str) -> str:
    """A secret as pages show it: its last 4 characters (none of a short one)."""
    return MASK + value[-4:] if len(value) >= 8 else MASK


@dataclass(frozen=True)
class Shown:
    """A setting for the pages: its non-secret values, and its secrets masked."""

    setting: IntegrationSetting
    kind: KindSpec | None
    values: dict[str, str]
    readable: bool = True

    @property
    def title(self) -> str:
        return self.setting.name or str(self.kind.label if self.kind else self.setting.kind)

    @property
    def kind_label(self) -> str:
        return str(self.kind.label) if self.kind else self.setting.kind


def shown(setting: IntegrationSetting) -> Shown:
    kind = get_kind(setting.kind)
    try:
        values = keys.decrypt(setting.values_encrypted)
    except keys.UnreadableValues:
        return Shown(setting, kind, {}, readable=False)
    secret = set(kind.secret_fields) if kind else set(values)
    return Shown(setting, kind, {k: mask(v) if k in secret and v else v for k, v in values.items()})


def stored_values(setting: IntegrationSetting) -> dict[str, str]:
    """The decrypted values (for the worker's and the checks' use only: never to a page)."""
    try:
        return keys.decrypt(setting.values_encrypted)
    except keys.UnreadableValues:
        return {}


@dataclass
class ChannelList:
    channel: IntegrationChannel
    kinds: dict[str, KindSpec]
    own: list[Shown] = field(default_factory=list)  # the scope's list, in order
    platform: list[Shown] = field(default_factory=list)  # an estate's view: the platform's enabled ones
    configured: list[str] = field(default_factory=list)  # kinds set in configuration

    @property
    def overriding(self) -> bool:
        """An estate's own enabled providers replace the platform's."""
        return any(s.setting.enabled for s in self.own)

    @property
    def full(self) -> bool:
        return len(self.own) >= MAX_PER_CHANNEL


def overview(scope: Scope) -> list[ChannelList]:
    """Each channel's list of the scope (and, for an estate, the platform's): one query."""
    stmt = sa.select(IntegrationSetting)
    if scope.is_platform:
        stmt = stmt.where(IntegrationSetting.estate_id.is_(None))
    else:
        stmt = stmt.where(sa.or_(IntegrationSetting.estate_id == scope.estate_id,
                                 sa.and_(IntegrationSetting.estate_id.is_(None), IntegrationSetting.enabled.is_(True))))
    rows = db.session.scalars(stmt.order_by(IntegrationSetting.position, IntegrationSetting.id)).all()
    lists = []
    for channel in CHANNELS:
        mine = [r for r in rows if r.channel == channel]
        item = ChannelList(channel, kinds_for(channel),
                           own=[shown(r) for r in mine if r.estate_id == scope.estate_id],
                           configured=[p.kind for p in from_configuration(channel.value)])
        if not scope.is_platform:
            item.platform = [shown(r) for r in mine if r.estate_id is None]
        lists.append(item)
    return lists


# --- reading one -----------------------------------------------------------------------


def get_setting(scope: Scope, setting_id: int) -> IntegrationSetting:
    """One setting of the scope's own list, or NotFound."""
    setting = db.session.scalar(sa.select(IntegrationSetting).where(IntegrationSetting.id == setting_id,
                                                                    _in_scope(scope)))
    if setting is None:
        raise NotFound()
    return setting


# --- checking values ---------------------------------------------------------------------


@dataclass
class SettingData:
    kind: str
    name: str = ""
    enabled: bool = True
    values: Mapping[str, str] = field(default_factory=dict)  # a secret left empty keeps the stored one
    clear: frozenset[str] = frozenset()  # optional secrets to remove


def _check_field(spec: FieldSpec, value: str) -> str:
    """The value to store, or InvalidValue."""
    if spec.type == FLAG:
        return "true" if flag(value) else "false"
    value = value.strip() if spec.type != "long_text" else value.strip("\r\n")
    if not value:
        if spec.required:
            raise InvalidValue(spec.name, REQUIRED)
        return spec.default if spec.type in (CHOICE,) else ""
    if len(value) > spec.max_length:
        raise InvalidValue(spec.name, TOO_LONG % {"max": spec.max_length})
    if spec.type == URL:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidValue(spec.name, BAD_URL)
    elif spec.type == NUMBER:
        if not value.isdigit() or not spec.low <= int(value) <= spec.high:
            raise InvalidValue(spec.name, BAD_NUMBER % {"low": spec.low, "high": spec.high})
        value = str(int(value))
    elif spec.type == CHOICE:
        if value.upper() not in spec.choices:
            raise InvalidValue(spec.name, BAD_CHOICE)
        value = value.upper()
    elif spec.type == EMAIL_ADDRESS:
        value = _sender(spec.name, value)
    elif spec.type == PHONE:
        try:
            value = normalise_phone(value, None)
        except InvalidPhone as exc:
            raise InvalidValue(spec.name, BAD_PHONE) from exc
    return value


def _sender(field_name: str, value: str) -> str:
    """An address, or "Name <address>"."""
    from email.utils import formataddr, parseaddr

    name, address = parseaddr(value)
    if not address or ("<" in value and not value.rstrip().endswith(">")):
        raise InvalidValue(field_name, BAD_EMAIL)
    try:
        address = email_validator.validate_email(address, check_deliverability=False).normalized
    except email_validator.EmailNotValidError as exc:
        raise InvalidValue(field_name, BAD_EMAIL) from exc
    return formataddr((name, address)) if name else address


def _kind_rules(kind: KindSpec, values: dict[str, str]) -> None:
    """What one field alone cannot say."""
    if kind.key in ("termii", "africastalking") and values.get("sender_id"):
        sender = values["sender_id"]
        if not (3 <= len(sender) <= 11 and sender.replace(" ", "").isalnum()):
            raise InvalidValue("sender_id", BAD_SENDER_ID)
    if kind.key == "twilio":
        sid = values.get("account_sid", "")
        if not (len(sid) == 34 and sid.startswith("AC") and sid[2:].isalnum()):
            raise InvalidValue("account_sid", BAD_TWILIO_SID)
    if kind.key == "http" and values.get("headers"):
        try:
            headers = json.loads(values["headers"])
        except ValueError:
            headers = None
        if not isinstance(headers, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                    for k, v in headers.items()):
            raise InvalidValue("headers", BAD_HEADERS)
    if kind.key == "smtp" and flag(values.get("use_tls")) and flag(values.get("use_ssl")):
        raise InvalidValue("use_ssl", TLS_AND_SSL)


def check_values(kind: KindSpec, data: SettingData, stored: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """(the values to store, the names of the secrets that change), or FieldErrors with a
    message per bad field. A secret left empty keeps `stored`'s."""
    values: dict[str, str] = {}
    changed: list[str] = []
    errors: dict[str, object] = {}
    for spec in kind.fields:
        given = str(data.values.get(spec.name) or "")
        try:
            if spec.secret and not given.strip():
                if spec.name in data.clear and not spec.required:
                    value = ""
                elif stored.get(spec.name):
                    value = stored[spec.name]
                elif spec.required:
                    raise InvalidValue(spec.name, REQUIRED)
                else:
                    value = ""
            else:
                value = _check_field(spec, given)
        except InvalidValue as exc:
            errors[spec.name] = exc.message
            continue
        if value:
            values[spec.name] = value
        if spec.secret and value != stored.get(spec.name, ""):
            changed.append(spec.name)
    if not errors:
        try:
            _kind_rules(kind, values)
        except InvalidValue as exc:
            errors[exc.field] = exc.message
    if len(data.name.strip()) > MAX_NAME:
        errors["name"] = TOO_LONG % {"max": MAX_NAME}
    if errors:
        raise FieldErrors(errors)
    return values, changed


def _snapshot(setting: IntegrationSetting, values: Mapping[str, str]) -> dict:
    """For the audit trail: everything but the secrets, whose names say only that they are set."""
    kind = get_kind(setting.kind)
    secret = set(kind.secret_fields) if kind else set(values)
    return {"channel": setting.channel.value, "kind": setting.kind, "name": setting.name,
            "position": setting.position, "enabled": setting.enabled,
            "values": {k: v for k, v in sorted(values.items()) if k not in secret},
            "secrets_set": sorted(k for k in secret if values.get(k))}


def _audit_estate(scope: Scope, setting: IntegrationSetting) -> int | None:
    return setting.estate_id if setting.estate_id is not None else scope.estate_id


# --- changes ---------------------------------------------------------------------------------


def create_setting(scope: Scope, data: SettingData) -> IntegrationSetting:
    kind = get_kind(data.kind)
    if kind is None:
        raise InvalidValue("kind", BAD_CHOICE)
    values, _changed = check_values(kind, data, {})
    count, last = db.session.execute(
        sa.select(sa.func.count(IntegrationSetting.id), sa.func.max(IntegrationSetting.position))
        .where(_in_scope(scope), IntegrationSetting.channel == kind.channel)).one()
    if count >= MAX_PER_CHANNEL:
        raise InvalidValue("kind", TOO_MANY % {"max": MAX_PER_CHANNEL})
    setting = IntegrationSetting(estate_id=scope.estate_id, channel=kind.channel, kind=kind.key,
                                 name=data.name.strip(), enabled=data.enabled,
                                 position=(last + 1) if last is not None else 0, values_encrypted=keys.encrypt(values))
    db.session.add(setting)
    db.session.flush()
    audit.record("integration.created", setting, actor_id=scope.actor.id, estate_id=scope.estate_id,
                 after=_snapshot(setting, values))
    db.session.commit()
    return setting


def update_setting(scope: Scope, setting_id: int, data: SettingData) -> IntegrationSetting:
    setting = get_setting(scope, setting_id)
    kind = get_kind(setting.kind)
    if kind is None:
        raise NotFound()
    stored = stored_values(setting)
    values, changed = check_values(kind, data, stored)
    before = _snapshot(setting, stored)
    setting.name = data.name.strip()
    setting.enabled = data.enabled
    setting.values_encrypted = keys.encrypt(values)
    after = {**_snapshot(setting, values), "secrets_changed": changed}
    audit.record("integration.updated", setting, actor_id=scope.actor.id, estate_id=scope.estate_id,
                 before=before, after=after)
    db.session.commit()
    return setting


def set_enabled(scope: Scope, setting_id: int, enabled: bool) -> IntegrationSetting:
    setting = get_setting(scope, setting_id)
    if setting.enabled != enabled:
        setting.enabled = enabled
        audit.record("integration.enabled" if enabled else "integration.disabled", setting,
                     actor_id=scope.actor.id, estate_id=scope.estate_id,
                     before={"enabled": not enabled}, after={"enabled": enabled})
    db.session.commit()
    return setting


def move_setting(scope: Scope, setting_id: int, up: bool) -> IntegrationSetting:
    """One place earlier (`up`) or later in its channel's list; the list's rows are locked
    meanwhile, and renumbered 0…n−1."""
    setting = get_setting(scope, setting_id)
    rows = list(db.session.scalars(
        sa.select(IntegrationSetting).where(_in_scope(scope), IntegrationSetting.channel == setting.channel)
        .order_by(IntegrationSetting.position, IntegrationSetting.id).with_for_update()))
    index = rows.index(setting)
    other = index - 1 if up else index + 1
    if 0 <= other < len(rows):
        before = [r.id for r in rows]
        rows[index], rows[other] = rows[other], rows[index]
        for position, row in enumerate(rows):
            if row.position != position:
                row.position = position
        audit.record("integration.moved", setting, actor_id=scope.actor.id, estate_id=scope.estate_id,
                     before={"order": before}, after={"order": [r.id for r in rows]})
    db.session.commit()
    return setting


def delete_setting(scope: Scope, setting_id: int) -> IntegrationSetting:
    """Delete it; test messages still waiting for it fail (nothing else is sent with it)."""
    setting = get_setting(scope, setting_id)
    before = _snapshot(setting, stored_values(setting))
    audit.record("integration.deleted", setting, actor_id=scope.actor.id, estate_id=scope.estate_id,
                 before=before)
    db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.provider_setting_id == setting.id)
                       .values(provider_setting_id=None))
    db.session.delete(setting)
    db.session.commit()
    return setting


# --- status and test messages --------------------------------------------------------------------


@dataclass
class StatusRow:
    channel: IntegrationChannel
    kind_key: str
    kind: KindSpec | None
    setting: IntegrationSetting | None = None  # None: from configuration (no status is kept)
    estate: Estate | None = None  # whose list it is (None: the platform's)
    error: str | None = None  # the last error, when this viewer may read it
    error_hidden: bool = False  # there is one, from another estate's message
    testable: bool = False

    @property
    def title(self) -> str:
        label = str(self.kind.label) if self.kind else self.kind_key
        return (self.setting.name or label) if self.setting is not None else label

    @property
    def source(self) -> str:
        return "config" if self.setting is None else ("platform" if self.setting.estate_id is None else "estate")


def _status_row(scope: Scope, setting: IntegrationSetting, testable: bool) -> StatusRow:
    error, hidden = setting.last_error, False
    if (not scope.is_platform and setting.estate_id is None and setting.last_error
            and setting.last_failure_estate_id != scope.estate_id):
        error, hidden = None, True  # a platform provider's error with another estate's message
    return StatusRow(setting.channel, setting.kind, get_kind(setting.kind), setting, setting.estate, error, hidden,
                     testable)


def configured_rows() -> list[StatusRow]:
    return [StatusRow(channel, p.kind, get_kind(p.kind)) for channel in CHANNELS for p in from_configuration(channel.value)]


def platform_status(scope: Scope, page: int = 1, per_page: int = 25) -> Pagination:
    """Every stored provider (the platform's first, then each estate's), a page at a time;
    an enterprise admin may test any of them."""
    if not scope.is_platform:
        raise Forbidden()
    stmt = (sa.select(IntegrationSetting).outerjoin(Estate, Estate.id == IntegrationSetting.estate_id)
            .options(contains_eager(IntegrationSetting.estate))
            .order_by(IntegrationSetting.estate_id.is_not(None), Estate.name, IntegrationSetting.estate_id,
                      IntegrationSetting.channel.desc(), IntegrationSetting.position, IntegrationSetting.id))
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=100)
    pagination.items = [_status_row(scope, s, testable=True) for s in pagination.items]
    return pagination


def estate_status(scope: Scope) -> list[tuple[IntegrationChannel, list[StatusRow]]]:
    """The providers an estate's messages use now, per channel (its own enabled ones, else
    the platform's, else configuration): one query."""
    if scope.is_platform:
        raise Forbidden()
    rows = db.session.scalars(
        sa.select(IntegrationSetting)
        .where(IntegrationSetting.enabled.is_(True),
               sa.or_(IntegrationSetting.estate_id == scope.estate_id, IntegrationSetting.estate_id.is_(None)))
        .order_by(IntegrationSetting.position, IntegrationSetting.id)).all()
    result = []
    for channel in CHANNELS:
        own = [r for r in rows if r.channel == channel and r.estate_id is not None]
        used = own or [r for r in rows if r.channel == channel and r.estate_id is None]
        if used:
            result.append((channel, [_status_row(scope, r, testable=True) for r in used]))
        else:
            result.append((channel, [StatusRow(channel, p.kind, get_kind(p.kind)) for p in from_configuration(channel.value)]))
    return result


def testable_setting(scope: Scope, setting_id: int) -> IntegrationSetting:
    """A provider this scope may send a test message through: any stored one for the
    platform; for an estate, one its messages use now (its own, or the platform's when it
    has none of its own for that channel)."""
    setting = db.session.get(IntegrationSetting, setting_id)
    if setting is None:
        raise NotFound()
    if scope.is_platform or setting.estate_id == scope.estate_id:
        return setting
    if setting.estate_id is None and setting.enabled:
        own = db.session.scalar(sa.select(sa.func.count(IntegrationSetting.id)).where(
            IntegrationSetting.estate_id == scope.estate_id, IntegrationSetting.channel == setting.channel,
            IntegrationSetting.enabled.is_(True)))
        if not own:
            return setting
    raise NotFound()


def check_recipient(channel: IntegrationChannel, recipient: str, country: str | None) -> str:
    recipient = (recipient or "").strip()
    if not recipient:
        raise InvalidValue("recipient", REQUIRED)
    if channel == IntegrationChannel.EMAIL:
        try:
            return email_validator.validate_email(recipient, check_deliverability=False).normalized
        except email_validator.EmailNotValidError as exc:
            raise InvalidValue("recipient", _l("Enter a valid email address.")) from exc
    try:
        return normalise_phone(recipient, country)
    except InvalidPhone as exc:
        raise InvalidValue("recipient", BAD_PHONE) from exc


def send_test(scope: Scope, setting_id: int, recipient: str) -> OutboxMessage:
    """A real outbox message through that one provider (the worker sends it after the
    commit, like any other); audited."""
    setting = testable_setting(scope, setting_id)
    estate = scope.estate or setting.estate
    recipient = check_recipient(setting.channel, recipient, estate.country if estate else None)
    kind = get_kind(setting.kind)
    provider = setting.name or str(kind.label if kind else setting.kind)
    body = _("This is a test message from Gatehouse, sent through %(provider)s at the request of %(name)s. "
             "If it reached you, the provider works.", provider=provider, name=scope.actor.display_name)
    if setting.channel == IntegrationChannel.EMAIL:
        message = messaging.send_email(recipient, _("Gatehouse test message"), body, estate=estate, reason=TEST_REASON)
    else:
        message = messaging.send_sms(recipient, body, estate=estate, reason=TEST_REASON)
    message.provider_setting_id = setting.id
    audit.record("integration.test_sent", setting, actor_id=scope.actor.id,
                 estate_id=estate.id if estate else None,
                 after={"channel": setting.channel.value, "kind": setting.kind, "recipient": recipient,
                        "message_id": message.id})
    db.session.commit()
    return message


def get_test_message(scope: Scope, message_id: int) -> OutboxMessage:
    """A test message this scope sent (an estate's own; any for the platform), or NotFound."""
    stmt = sa.select(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.reason == TEST_REASON)
    if not scope.is_platform:
        stmt = stmt.where(OutboxMessage.estate_id == scope.estate_id)
    message = db.session.scalar(stmt)
    if message is None:
        raise NotFound()
    return message


# --- key rotation ----------------------------------------------------------------------------------


def rotate_keys() -> tuple[int, list[int]]:
    """Encrypt every stored setting again with the first key of INTEGRATION_KEYS (the
    command `flask --app wsgi integrations rotate-keys`), in one transaction, audited.
    Returns (how many were rotated, the ids no key could open: left as they are)."""
    rotated, unreadable = 0, []
    rows = db.session.scalars(sa.select(IntegrationSetting).order_by(IntegrationSetting.id).with_for_update())
    for setting in rows:
        try:
            setting.values_encrypted = keys.rotate(setting.values_encrypted)
        except keys.UnreadableValues:
            unreadable.append(setting.id)
            continue
        rotated += 1
        audit.record("integration.keys_rotated", setting, actor_id=None, estate_id=setting.estate_id)
    db.session.commit()
    return rotated, unreadable
