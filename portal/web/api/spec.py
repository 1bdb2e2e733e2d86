"""The OpenAPI 3.1 description of the kiosk API, served at /api/v1/openapi.json."""

from __future__ import annotations

from functools import cache

from portal.gate.offline import MAX_ITEMS
from portal.visits.rules import Refusal

REFUSALS = [r.value for r in Refusal if r not in (Refusal.NOT_FOUND, Refusal.NOT_INSIDE)]


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _ok(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": {
        "type": "object", "required": ["success", "data"],
        "properties": {"success": {"const": True}, "data": schema}}}}}


def _err(description: str, codes: list[str]) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {
        "allOf": [_ref("Error")],
        "properties": {"error": {"properties": {"code": {"enum": codes}}}}}}}}


def _body(schema: dict) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


AUTH_ERRORS = {
    "401": _err("No token (AUTHENTICATION_REQUIRED), or an invalid, expired or revoked one (INVALID_TOKEN)",
                ["AUTHENTICATION_REQUIRED", "INVALID_TOKEN"]),
    "429": _err("Too many requests", ["RATE_LIMITED"]),
}
DEVICE_ERRORS = {
    "403": _err("The body's device_id is not the token's device", ["DEVICE_MISMATCH"]),
    "422": _err("Bad body: `details` maps each field to its message", ["VALIDATION_ERROR"]),
}
GATE = {"type": "string", "minLength": 1, "maxLength": 60, "default": "Main gate",
        "description": "Free text: the gate's name"}
DEVICE = {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._:-]{7,99}$",
          "description": "The gate device's id; must be the one the token was issued to"}
VISIT_ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}  # the ids the database holds
OFFLINE_ID = {"type": "string", "minLength": 8, "maxLength": 100,
              "description": "Idempotency key: sending it again returns the first answer"}


def _scan_responses(method: str) -> dict:
    return {
        "200": _ok({"type": "object", "required": ["visit", "event"],
                    "properties": {"visit": _ref("Visit"), "event": _ref("Event")}}, f"Entry recorded ({method})"),
        "404": _err("No pass of this estate matches", ["NOT_FOUND"]),
        "409": _err("Refused: the code says why (VISITOR_BANNED carries the ban reason in details.reason); "
                    "details.visit and details.event describe the pass and the DENIED event",
                    REFUSALS),
        **AUTH_ERRORS, **DEVICE_ERRORS,
    }


@cache
def spec() -> dict:
    person = {"type": "object", "properties": {
        "name": {"type": "string"}, "phone": {"type": ["string", "null"]}, "plate": {"type": ["string", "null"]}}}
    host = {"type": ["object", "null"], "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}
    when = {"type": ["string", "null"], "format": "date-time"}
    schemas = {
        "Error": {"type": "object", "required": ["success", "error"], "properties": {
            "success": {"const": False},
            "error": {"type": "object", "required": ["code", "message"], "properties": {
                "code": {"type": "string", "enum": [
                    "VALIDATION_ERROR", "AUTHENTICATION_REQUIRED", "INVALID_TOKEN", "FORBIDDEN", "NOT_FOUND",
                    "CONFLICT", "RATE_LIMITED", "METHOD_NOT_ALLOWED", "BAD_REQUEST", "PAYLOAD_TOO_LARGE",
                    "INTERNAL_ERROR", "SERVICE_UNAVAILABLE", "DEVICE_MISMATCH", "DEVICE_IN_USE", "NOT_INSIDE", *REFUSALS]},
                "message": {"type": "string", "description": "Translated per Accept-Language (en, es)"},
                "details": {"description": "Field messages (VALIDATION_ERROR) or the pass refused"}}}}},
        "Person": person,
        "Host": host,
        "Visit": {"type": "object", "required": ["id", "status", "host", "unit", "visitors", "entries_used",
                                                  "max_entries"], "properties": {
            "id": {"type": "integer"}, "status": {"enum": ["ACTIVE", "CANCELLED", "REVOKED"]},
            "host": host, "unit": {"type": "string"}, "visitors": {"type": "array", "items": person},
            "entries_used": {"type": "integer"}, "max_entries": {"type": ["integer", "null"]},
            "pass_type": {"enum": ["SINGLE_USE", "MULTI_ENTRY", "RECURRING", "DELIVERY"]},
            "people_inside": {"type": "boolean"}}},
        "Event": {"type": "object", "required": ["id", "type", "occurred_at", "gate", "method"], "properties": {
            "id": {"type": "integer"}, "type": {"enum": ["ENTRY", "EXIT", "DENIED"]},
            "occurred_at": {"type": "string", "format": "date-time"}, "gate": {"type": "string"},
            "method": {"enum": ["QR", "CODE", "SEARCH", "OFFLINE"]},
            "client_event_id": {"type": ["string", "null"]}}},
        "VisitStatus": {"allOf": [_ref("Visit")], "type": "object", "properties": {
            "entry": when, "exit": when, "can_enter": {"type": "boolean"}, "can_exit": {"type": "boolean"},
            "refusal": {"type": ["string", "null"], "description": "Why can_enter is false"},
            "message": {"type": ["string", "null"]},
            "valid_from": {"type": "string", "format": "date-time"},
            "valid_until": {"type": "string", "format": "date-time"}}},
        "OfflinePass": {"type": "object", "properties": {
            "id": {"type": "integer"}, "visitor_code": {"type": "string"},
            "qr_token_sha256": {"type": "string", "description": "hex SHA-256 of the QR token (never the token)"},
            "pass_type": {"type": "string"}, "valid_from": {"type": "string", "format": "date-time"},
            "valid_until": {"type": "string", "format": "date-time"},
            "weekdays": {"type": "string", "description": "ISO weekday numbers, e.g. 12345"},
            "daily_start": {"type": ["string", "null"], "description": "HH:MM, estate time"},
            "daily_end": {"type": ["string", "null"]}, "max_entries": {"type": ["integer", "null"]},
            "entries_used": {"type": "integer"}, "people_inside": {"type": "boolean"}, "host": host,
            "unit": {"type": "string"}, "visitors": {"type": "array", "items": person}}},
        "Bootstrap": {"type": "object", "properties": {
            "generated_at": {"type": "string", "format": "date-time"},
            "valid_until": {"type": "string", "format": "date-time",
                            "description": "End of tomorrow, estate time"},
            "estate": {"type": "object", "properties": {
                "slug": {"type": "string"}, "name": {"type": "string"}, "timezone": {"type": "string"}}},
            "passes": {"type": "array", "items": _ref("OfflinePass")},
            "bans": {"type": "array", "items": {"type": "object", "properties": {
                "phone": {"type": "string"}, "scope": {"enum": ["ESTATE", "PERSONAL"]},
                "owner_user_id": {"type": ["integer", "null"]}, "reason": {"type": "string"},
                "severity": {"enum": ["LOW", "MEDIUM", "HIGH"]}, "expires_at": when}}},
            "residents": {"type": "array", "items": {"type": "object", "properties": {
                "name": {"type": "string"}, "unit": {"type": "string"}, "phone": {"type": ["string", "null"]}}}},
            "inside": {"type": "array", "items": {"type": "object", "properties": {
                "visit_id": {"type": "integer"}, "visitors": {"type": "array", "items": person},
                "unit": {"type": "string"}, "host": host, "since": when}}}}},
        "SyncItem": {"type": "object", "required": ["client_event_id", "event_type", "occurred_at"],
                     "description": "Exactly one of qr_token or visitor_code", "properties": {
            "client_event_id": {"type": "string", "minLength": 8, "maxLength": 100},
            "event_type": {"enum": ["ENTRY", "EXIT"]},
            "occurred_at": {"type": "string", "format": "date-time",
                            "description": "ISO-8601 with a zone, from the year 2000 on; at most 5 minutes in "
                                           "the future (an item outside is REJECTED alone, VALIDATION_ERROR)"},
            "qr_token": {"type": "string"}, "visitor_code": {"type": "string"}, "gate": GATE}},
        "SyncResult": {"type": "object", "required": ["client_event_id", "status", "code", "message", "visit_id"],
                       "properties": {
            "client_event_id": {"type": ["string", "null"]},
            "status": {"enum": ["APPLIED", "DUPLICATE", "REJECTED"]},
            "code": {"type": ["string", "null"], "enum": [None, "VALIDATION_ERROR", "NOT_FOUND", "NOT_INSIDE",
                                                          *REFUSALS]},
            "message": {"type": ["string", "null"]}, "visit_id": {"type": ["integer", "null"]}}},
    }
    bearer = [{"kioskToken": []}]
    paths = {
        "/api/v1/ping": {"get": {"summary": "Liveness", "operationId": "ping", "security": [],
                                 "responses": {"200": _ok({"type": "object", "properties": {
                                     "pong": {"const": True}}})}}},
        "/api/v1/openapi.json": {"get": {"summary": "This description", "operationId": "openapi", "security": [],
                                         "responses": {"200": {"description": "OpenAPI 3.1 document"}}}},
        "/api/v1/kiosk/token": {"post": {
            "summary": "Sign a guard in on a gate device", "operationId": "kioskToken", "security": [],
            "description": "Guards only. The first device a guard uses is bound to the account; another device "
                           "is refused until an admin resets it. Rate-limited like sign-in.",
            "requestBody": _body({"type": "object", "required": ["estate", "login", "password", "device_id"],
                                  "properties": {"estate": {"type": "string", "description": "estate slug"},
                                                 "login": {"type": "string", "description": "email or phone"},
                                                 "password": {"type": "string"}, "device_id": DEVICE}}),
            "responses": {
                "200": _ok({"type": "object", "required": ["access_token", "token_type", "expires_in"],
                            "properties": {"access_token": {"type": "string"}, "token_type": {"const": "Bearer"},
                                           "expires_in": {"type": "integer", "description": "seconds"}}}),
                "401": _err("Wrong estate, login or password, or the account is not active",
                            ["AUTHENTICATION_REQUIRED"]),
                "403": _err("Not a guard of this estate, estate not active, or the guard is bound to another "
                            "device", ["FORBIDDEN", "DEVICE_MISMATCH"]),
                "409": _err("This device is bound to another guard", ["DEVICE_IN_USE"]),
                "422": _err("Bad body", ["VALIDATION_ERROR"]),
                "429": _err("Too many attempts", ["RATE_LIMITED"])}}},
        "/api/v1/kiosk/revoke": {"post": {
            "summary": "Revoke the presented token", "operationId": "kioskRevoke", "security": bearer,
            "responses": {"200": _ok({"type": "object", "properties": {"revoked": {"const": True}}}),
                          **AUTH_ERRORS}}},
        "/api/v1/checkin/scan": {"post": {
            "summary": "Record an entry by QR token", "operationId": "checkinScan", "security": bearer,
            "requestBody": _body({"type": "object", "required": ["qr_token", "device_id"], "properties": {
                "qr_token": {"type": "string", "maxLength": 200}, "gate": GATE, "device_id": DEVICE,
                "offline_event_id": OFFLINE_ID}}),
            "responses": _scan_responses("QR")}},
        "/api/v1/checkin/manual": {"post": {
            "summary": "Record an entry by typed visitor code", "operationId": "checkinManual", "security": bearer,
            "requestBody": _body({"type": "object", "required": ["visitor_code", "device_id"], "properties": {
                "visitor_code": {"type": "string", "description": "8 characters; case, spaces and dashes ignored"},
                "gate": GATE, "device_id": DEVICE, "offline_event_id": OFFLINE_ID}}),
            "responses": _scan_responses("CODE")}},
        "/api/v1/checkin/checkout": {"post": {
            "summary": "Record an exit", "operationId": "checkinCheckout", "security": bearer,
            "requestBody": _body({"type": "object", "required": ["device_id"],
                                  "description": "Exactly one of visit_id, qr_token or visitor_code",
                                  "properties": {"visit_id": VISIT_ID, "qr_token": {"type": "string"},
                                                 "visitor_code": {"type": "string"}, "gate": GATE,
                                                 "device_id": DEVICE, "offline_event_id": OFFLINE_ID}}),
            "responses": {
                "200": _ok({"type": "object", "required": ["visit", "event"],
                            "properties": {"visit": _ref("Visit"), "event": _ref("Event")}}, "Exit recorded"),
                "404": _err("No pass of this estate matches", ["NOT_FOUND"]),
                "409": _err("Nobody of this pass is inside (NOT_INSIDE), or the QR token is another estate's",
                            ["NOT_INSIDE", "WRONG_ESTATE"]),
                **AUTH_ERRORS, **DEVICE_ERRORS}}},
        "/api/v1/visits/{visit_id}/status": {"get": {
            "summary": "Where a pass stands: last entry and exit, whether it may enter or leave now",
            "operationId": "visitStatus", "security": bearer,
            "parameters": [{"name": "visit_id", "in": "path", "required": True, "schema": VISIT_ID}],
            "responses": {"200": _ok(_ref("VisitStatus")),
                          "404": _err("No visit of this estate has this id", ["NOT_FOUND"]), **AUTH_ERRORS}}},
        "/api/v1/offline/bootstrap": {"get": {
            "summary": "What a gate device keeps for offline use: passes valid today and tomorrow (codes and "
                       "QR token hashes), active bans, residents and units, who is inside",
            "operationId": "offlineBootstrap", "security": bearer,
            "responses": {"200": _ok(_ref("Bootstrap")), **AUTH_ERRORS}}},
        "/api/v1/offline/sync": {"post": {
            "summary": "Replay scans made offline",
            "description": "Items are replayed through the live gate rules in occurred_at order, each in its own "
                           "transaction; results come back in the order sent. A client_event_id seen before is "
                           f"DUPLICATE. At most {MAX_ITEMS} items.",
            "operationId": "offlineSync", "security": bearer,
            "requestBody": _body({"type": "object", "required": ["device_id", "items"], "properties": {
                "device_id": DEVICE, "gate": GATE,
                "items": {"type": "array", "maxItems": MAX_ITEMS, "items": _ref("SyncItem")}}}),
            "responses": {"200": _ok({"type": "object", "required": ["results"], "properties": {
                "results": {"type": "array", "items": _ref("SyncResult")}}}), **AUTH_ERRORS, **DEVICE_ERRORS}}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Gatehouse kiosk API", "version": "1",
                 "description": "Gate devices of an estate: bearer tokens for guards, check-in and check-out, "
                                "offline bootstrap and sync. Every answer is an envelope: "
                                "{success: true, data} or {success: false, error: {code, message, details}}."},
        "servers": [{"url": "/"}],
        "security": bearer,
        "components": {"securitySchemes": {"kioskToken": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
                       "schemas": schemas},
        "paths": paths,
    }
