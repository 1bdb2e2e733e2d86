"""Bulk CSV import of units and of residents.

Upload → `preview_import()` parses and validates every row (nothing is written) →
the admin confirms → `confirm_import()` inserts all rows in one transaction, or none.

A file with any bad row gets no token and cannot be imported. A good file's parsed,
validated rows are kept in the database (`ImportPreview`, named by a random token), so
any app server can confirm it; the confirm form only carries the token. A preview is
bound to the estate (another estate's token is a 404) and the admin who uploaded it,
expires after an hour (deleted when next used, or by `flask purge-import-previews`)
and is deleted once imported. The confirm step re-checks the database.
"""

from __future__ import annotations

import csv
import enum
import io
import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

import email_validator
import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from portal import audit
from portal.errors import DomainError, NotFound
from portal.extensions import db
from portal.labels import RESIDENT_TYPE_LABELS, UNIT_TYPE_LABELS
from portal.models import (
    Estate,
    ImportPreview,
    Resident,
    ResidentType,
    Unit,
    UnitType,
    User,
    utcnow,
)
from portal.phones import InvalidPhone, normalise_phone

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000
TOKEN_TTL_SECONDS = 3600
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")

REQUIRED = _l("This field is required.")
TOO_LONG = _l("Use at most %(max)d characters.")
BAD_PHONE = _l("Enter a valid phone number.")
BAD_EMAIL = _l("Enter a valid email address.")
UNIT_TAKEN = _l("There is already a unit numbered %(number)s in this estate.")
EXPIRED = _l("This preview has expired. Upload the file again.")
FILE_TOO_LARGE = _l("The file is larger than 5 MB. Split it into smaller files and import them one by one.")


class ImportKind(enum.StrEnum):
    UNITS = "units"
    RESIDENTS = "residents"


COLUMNS: dict[ImportKind, list[str]] = {
    ImportKind.UNITS: ["number", "block", "floor", "type", "bedrooms", "bathrooms", "area_sqm", "notes"],
    ImportKind.RESIDENTS: ["unit", "full_name", "type", "phone", "email", "move_in_date",
                           "emergency_contact_name", "emergency_contact_phone"],
}
REQUIRED_COLUMNS: dict[ImportKind, list[str]] = {
    ImportKind.UNITS: ["number"],
    ImportKind.RESIDENTS: ["unit", "full_name", "type"],
}
EXAMPLES: dict[ImportKind, list[str]] = {
    ImportKind.UNITS: ["A1", "A", "1", "APARTMENT", "3", "2", "85.5", "Corner unit near the gate"],
    ImportKind.RESIDENTS: ["A1", "Ada Obi", "OWNER", "+2348031234567", "ada@example.com", "2024-01-31",
                           "Chidi Obi", "+2348039876543"],
}


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    message: object  # a lazy translated string


@dataclass
class PreviewRow:
    line: int
    cells: list[str]
    errors: list[RowError] = field(default_factory=list)
    values: dict = field(default_factory=dict)


@dataclass
class Preview:
    kind: ImportKind
    filename: str
    columns: list[str]
    rows: list[PreviewRow] = field(default_factory=list)
    file_errors: list = field(default_factory=list)
    token: str | None = None
    header: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[RowError]:
        return [e for row in self.rows for e in row.errors]

    @property
    def bad_rows(self) -> int:
        return sum(1 for row in self.rows if row.errors)

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.file_errors and not self.bad_rows


def template_csv(kind: ImportKind) -> str:
    """The header and one example row (UTF-8 with a BOM, so spreadsheets read accents)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS[kind])
    writer.writerow(EXAMPLES[kind])
    return "\ufeff" + out.getvalue()


# --- reading the file ----------------------------------------------------------------

def _decode(content: bytes) -> str | None:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    return None if "\x00" in text else text


def _read(preview: Preview, content: bytes) -> list[tuple[int, list[str]]] | None:
    """The header checked and the data records with their line numbers, or None
    (with a file error) when the file cannot be used at all."""
    kind = preview.kind
    expected = ", ".join(COLUMNS[kind])
    if len(content) > MAX_BYTES:
        preview.file_errors.append(FILE_TOO_LARGE)
        return None
    text = _decode(content)
    if text is None:
        preview.file_errors.append(_l(
            "This is not a CSV file in UTF-8. In your spreadsheet, save it as “CSV UTF-8” and upload it again."))
        return None
    if not text.strip():
        preview.file_errors.append(_l("The file is empty."))
        return None
    first_line = text.lstrip().split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    last_line = 0
    try:
        for record in reader:
            line, last_line = last_line + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                header = [cell.strip().lower().replace(" ", "_") for cell in record]
                continue
            if len(records) >= MAX_ROWS:
                preview.file_errors.append(_l(
                    "The file has more than %(max)d rows. Split it into files of at most %(max)d rows.",
                    max=MAX_ROWS))
                return None
            records.append((line, record))
    except csv.Error:
        preview.file_errors.append(_l(
            "Line %(line)d is not valid CSV. Check its quotes, then upload the file again.", line=last_line + 1))
        return None
    if header is None:
        preview.file_errors.append(_l("The file is empty."))
        return None
    unknown = [name for name in header if name not in COLUMNS[kind]]
    if not set(header) & set(COLUMNS[kind]):
        preview.file_errors.append(_l(
            "The first line must be the header naming the columns: %(columns)s. Download the template to start from.",
            columns=expected))
        return None
    for name in unknown:
        preview.file_errors.append(_l("Unknown column “%(name)s” in the header. The columns are: %(columns)s.",
                                      name=name or "?", columns=expected))
    for name in sorted({n for n in header if header.count(n) > 1}):
        preview.file_errors.append(_l("The column “%(name)s” appears twice in the header.", name=name))
    for name in REQUIRED_COLUMNS[kind]:
        if name not in header:
            preview.file_errors.append(_l("The header has no “%(name)s” column, which is required.", name=name))
    if preview.file_errors:
        return None
    if not records:
        preview.file_errors.append(_l("The file has a header but no rows to import."))
        return None
    preview.header = header
    return records


# --- checking the values -------------------------------------------------------------

Check = Callable[[str], object]


class _Bad(Exception):
    def __init__(self, message):
        self.message = message


def _text(max_length: int, required: bool = False) -> Check:
    def check(value: str) -> str:
        if required and not value:
            raise _Bad(REQUIRED)
        if len(value) > max_length:
            raise _Bad(TOO_LONG % {"max": max_length})
        return value
    return check


def _whole_number(value: str) -> int | None:
    if not value:
        return None
    if not re.fullmatch(r"\d{1,3}", value) or int(value) > 50:
        raise _Bad(_l("Enter a whole number from 0 to 50."))
    return int(value)


def _area(value: str) -> str | None:
    if not value:
        return None
    if "," in value and "." not in value:
        value = value.replace(",", ".")  # 85,5 from a spreadsheet in Spanish
    try:
        number = Decimal(value)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or not 0 <= number <= 100000 or number != number.quantize(Decimal("0.01")):
        raise _Bad(_l("Enter a number from 0 to 100000 with at most 2 decimals."))
    return str(number.quantize(Decimal("0.01")))


def _plain_word(text: str) -> str:
    """A word as typed, compared without case, accents or extra spaces."""
    decomposed = unicodedata.normalize("NFKD", " ".join(str(text).split()).casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _choice(enum_cls: type[enum.Enum], labels: dict, default=None) -> Check:
    """A code (OWNER) or its word in any of the portal's languages (Owner, Propietario)."""
    words: dict[str, str] = {}
    for language in current_app.config["LANGUAGES"]:
        with force_locale(language):
            for member, label in labels.items():
                words[_plain_word(str(label))] = getattr(member, "value", member)

    def check(value: str) -> str:
        if not value:
            if default is None:
                raise _Bad(REQUIRED)
            return default.value
        if value.upper() in enum_cls.__members__:
            return value.upper()
        code = words.get(_plain_word(value))
        if code is None:
            choices = ", ".join(f"{m.value} ({labels[m]})" for m in enum_cls)
            raise _Bad(_l("Unknown type “%(value)s”. Use one of: %(choices)s.", value=value, choices=choices))
        return code
    return check


def _phone(region: str) -> Check:
    def check(value: str) -> str | None:
        if not value:
            return None
        try:
            return normalise_phone(value, region)
        except InvalidPhone as exc:
            raise _Bad(BAD_PHONE) from exc
    return check


def _email(value: str) -> str | None:
    if not value:
        return None
    if len(value) > 254:
        raise _Bad(TOO_LONG % {"max": 254})
    try:
        return email_validator.validate_email(value, check_deliverability=False).normalized
    except email_validator.EmailNotValidError as exc:
        raise _Bad(BAD_EMAIL) from exc


def _date(value: str) -> str | None:
    if not value:
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError(value)
        return date.fromisoformat(value).isoformat()
    except ValueError as exc:
        raise _Bad(_l("Enter the date as YYYY-MM-DD, for example 2024-01-31.")) from exc


def _checks(kind: ImportKind, estate: Estate) -> dict[str, Check]:
    if kind == ImportKind.UNITS:
        return {
            "number": _text(40, required=True), "block": _text(40), "floor": _text(20),
            "type": _choice(UnitType, UNIT_TYPE_LABELS, default=UnitType.APARTMENT), "bedrooms": _whole_number,
            "bathrooms": _whole_number, "area_sqm": _area, "notes": _text(2000),
        }
    return {
        "unit": _text(40, required=True), "full_name": _text(160, required=True),
        "type": _choice(ResidentType, RESIDENT_TYPE_LABELS), "phone": _phone(estate.country), "email": _email,
        "move_in_date": _date, "emergency_contact_name": _text(160),
        "emergency_contact_phone": _phone(estate.country),
    }


def _estate_units(estate: Estate) -> dict[str, tuple[int, str, bool]]:
    """lower(number) → (id, number, archived) for every unit of the estate, in one query."""
    rows = db.session.execute(
        sa.select(Unit.id, Unit.number, Unit.archived_at).where(Unit.estate_id == estate.id)
    ).all()
    return {number.lower(): (unit_id, number, archived is not None) for unit_id, number, archived in rows}


def _check_rows(preview: Preview, estate: Estate, records: list[tuple[int, list[str]]]) -> None:
    kind, header = preview.kind, preview.header
    checks = _checks(kind, estate)
    units = _estate_units(estate)
    seen: dict[str, int] = {}
    for line, record in records:
        cells = {name: (record[i].strip() if i < len(record) else "") for i, name in enumerate(header)}
        row = PreviewRow(line, [cells.get(name, "") for name in COLUMNS[kind]])
        preview.rows.append(row)
        if len(record) > len(header) and any(cell.strip() for cell in record[len(header):]):
            row.errors.append(RowError(line, "", _l(
                "This row has more values than the header has columns.")))
        for name, check in checks.items():
            try:
                row.values[name] = check(cells.get(name, ""))
            except _Bad as bad:
                row.errors.append(RowError(line, name, bad.message))
        if kind == ImportKind.UNITS:
            number = row.values.get("number")
            if number:
                key = number.lower()
                if key in seen:
                    row.errors.append(RowError(line, "number", _l(
                        "Unit %(number)s appears more than once in the file (also on row %(row)d).",
                        number=number, row=seen[key])))
                else:
                    seen[key] = line
                if key in units:
                    row.errors.append(RowError(line, "number", UNIT_TAKEN % {"number": number}))
        else:
            number = row.values.get("unit")
            if number:
                unit = units.get(number.lower())
                if unit is None:
                    row.errors.append(RowError(line, "unit", _l(
                        "There is no unit numbered %(number)s in this estate.", number=number)))
                elif unit[2]:
                    row.errors.append(RowError(line, "unit", _l(
                        "Unit %(number)s is archived. Restore it before adding residents to it.", number=unit[1])))
                else:
                    row.values["unit_id"] = unit[0]


# --- keeping a checked file until it is confirmed ------------------------------------

def purge_expired() -> int:
    """Delete the previews nobody confirmed in time; the number deleted."""
    deleted = db.session.execute(sa.delete(ImportPreview).where(ImportPreview.expires_at <= utcnow())).rowcount
    db.session.commit()
    return deleted


def _keep(preview: Preview, actor_id: int, estate: Estate) -> str:
    db.session.execute(sa.delete(ImportPreview).where(ImportPreview.expires_at <= utcnow()))
    token = secrets.token_urlsafe(24)
    now = utcnow()
    db.session.add(ImportPreview(
        token=token, estate_id=estate.id, created_by_id=actor_id, kind=preview.kind.value,
        filename=preview.filename[:255], row_count=len(preview.rows), rows=[row.values for row in preview.rows],
        created_at=now, expires_at=now + timedelta(seconds=TOKEN_TTL_SECONDS),
    ))
    db.session.commit()
    return token


def _load(token: str, kind: ImportKind, actor_id: int, estate: Estate) -> ImportPreview:
    """The preview to confirm. Another estate's is a 404; an unknown, used, expired (then
    deleted), other admin's or other kind's preview is refused as expired."""
    found = db.session.get(ImportPreview, token) if token and _TOKEN.fullmatch(token) else None
    if found is not None and found.estate_id != estate.id:
        raise NotFound()
    if found is not None and found.expires_at <= utcnow():
        db.session.delete(found)
        db.session.commit()
        found = None
    if found is None or found.kind != kind.value or found.created_by_id != actor_id:
        raise DomainError(EXPIRED, code="EXPIRED")
    return found


# --- the two steps -------------------------------------------------------------------

def preview_import(actor: User, estate: Estate, kind: ImportKind, filename: str, content: bytes) -> Preview:
    """Every row checked; a token to confirm with only when every row is good. Writes only the
    preview itself (an import_preview row), none of the units or residents."""
    preview = Preview(kind, filename or "", COLUMNS[kind])
    records = _read(preview, content)
    if records is not None:
        _check_rows(preview, estate, records)
    if preview.ok:
        preview.token = _keep(preview, actor.id, estate)
    return preview


@dataclass(frozen=True)
class ImportResult:
    kind: ImportKind
    count: int


def _unit_rows(estate: Estate, rows: list[dict]) -> list[dict]:
    taken = _estate_units(estate)
    clashes = [r["number"] for r in rows if r["number"].lower() in taken]
    if clashes:
        raise DomainError(_l(
            "Since the preview, units with these numbers were added to the estate: %(numbers)s. "
            "Upload the file again to check it.", numbers=", ".join(clashes[:10])))
    now = utcnow()
    return [{
        "estate_id": estate.id, "number": r["number"], "block": r["block"], "floor": r["floor"],
        "unit_type": UnitType(r["type"]), "bedrooms": r["bedrooms"], "bathrooms": r["bathrooms"],
        "area_sqm": Decimal(r["area_sqm"]) if r["area_sqm"] is not None else None, "notes": r["notes"],
        "created_at": now,
    } for r in rows]


def _resident_rows(estate: Estate, rows: list[dict]) -> list[dict]:
    units = {unit_id for unit_id, _number, archived in _estate_units(estate).values() if not archived}
    gone = [r["unit"] for r in rows if r["unit_id"] not in units]
    if gone:
        raise DomainError(_l(
            "Since the preview, these units were archived or renamed: %(numbers)s. "
            "Upload the file again to check it.", numbers=", ".join(sorted(set(gone))[:10])))
    now = utcnow()
    return [{
        "estate_id": estate.id, "unit_id": r["unit_id"], "user_id": None, "full_name": r["full_name"],
        "resident_type": ResidentType(r["type"]), "phone": r["phone"], "email": r["email"],
        "move_in_date": date.fromisoformat(r["move_in_date"]) if r["move_in_date"] else None,
        "move_out_date": None, "emergency_contact_name": r["emergency_contact_name"],
        "emergency_contact_phone": r["emergency_contact_phone"], "created_at": now,
    } for r in rows]


def confirm_import(actor: User, estate: Estate, kind: ImportKind, token: str) -> ImportResult:
    """Inserts every row of a previewed good file in one transaction (bulk insert), with
    one audit record for the whole import; or nothing."""
    kept = _load(token, kind, actor.id, estate)
    rows, filename = kept.rows, kept.filename
    model = Unit if kind == ImportKind.UNITS else Resident
    try:
        values = _unit_rows(estate, rows) if kind == ImportKind.UNITS else _resident_rows(estate, rows)
        db.session.execute(sa.insert(model), values)
        audit.record(f"{kind.value}.imported", estate, actor_id=actor.id, estate_id=estate.id,
                     after={"count": len(values), "filename": filename})
        # Used once: a second confirm of the same preview (another tab, another server) finds
        # nothing to delete and imports nothing.
        used = db.session.execute(sa.delete(ImportPreview).where(ImportPreview.token == token)).rowcount
        if used != 1:
            raise DomainError(EXPIRED, code="EXPIRED")
        db.session.commit()
    except IntegrityError as exc:  # a unit number taken by someone else in the meantime
        db.session.rollback()
        raise DomainError(_l("Some rows clash with changes made since the preview. Nothing was imported. "
                             "Upload the file again to check it.")) from exc
    except DomainError:
        db.session.rollback()
        raise
    return ImportResult(kind, len(values))
