"""The kiosk API's JSON envelope, also used by the error handlers for any /api/ answer:
`{"success": true, "data": …}` or `{"success": false, "error": {"code", "message", "details"}}`."""

from __future__ import annotations

from flask import jsonify


def ok(data, status: int = 200):
    return jsonify(success=True, data=data), status


def fail(code: str, message: str, status: int, details=None):
    return jsonify(success=False, error={"code": code, "message": message, "details": details}), status
