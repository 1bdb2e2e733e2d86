"""The kiosk JSON API (`/api/v1`): the envelope, its errors, and its spec."""

from flask import Blueprint, jsonify

from portal.extensions import csrf, limiter

bp = Blueprint("api", __name__)
csrf.exempt(bp)


def ok(data, status: int = 200):
    return jsonify(success=True, data=data), status


def fail(code: str, message: str, status: int, details=None):
    return jsonify(success=False, error={"code": code, "message": message, "details": details}), status


@bp.get("/ping")
@limiter.exempt
def ping():
    """A trivial endpoint: the baseline for benchmarks and a liveness probe for kiosks."""
    return ok({"pong": True})


@bp.get("/openapi.json")
def openapi():
    return jsonify(
        {
            "openapi": "3.1.0",
            "info": {"title": "Gatehouse kiosk API", "version": "1"},
            "paths": {
                "/api/v1/ping": {"get": {"summary": "Liveness", "responses": {"200": {"description": "pong"}}}}
            },
        }
    )
