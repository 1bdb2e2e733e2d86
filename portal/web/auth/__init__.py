from flask import Blueprint

bp = Blueprint("auth", __name__)

from portal.web.auth import views  # noqa: E402,F401
