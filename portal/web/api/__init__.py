"""The kiosk JSON API (`/api/v1`): the envelope, its errors, and its spec."""

from flask import Blueprint, jsonify

from portal.extensions import csrf, limiter
from portal.web.envelope import fail, ok  # noqa: F401 - the envelope, for the views

bp = Blueprint("api", __name__)
csrf.exempt(bp)






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
