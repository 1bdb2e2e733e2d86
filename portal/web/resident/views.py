from flask import g
from flask_login import current_user

from portal.estates import service
from portal.web.resident import bp
from portal.web.ui import render


@bp.get("/")
def home():
    return render(
        "resident/home.html",
        units=service.household_of(current_user, g.estate),
        counts=service.estate_counts(g.estate),
    )
