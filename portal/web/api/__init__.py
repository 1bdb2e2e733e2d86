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
@limiter.exempt
def openapi():
    from portal.web.api.spec import spec

    return jsonify(spec())


from portal.web.api import views  # noqa: E402,F401 - registers the kiosk endpoints
