"""Estate-wide bans and active passes for estate admins (the views live in portal/gate/manage.py)."""

from portal.web.admin import bp
from portal.web.supervision import register

register(bp, "admin")
