"""Estate-wide bans and active passes for estate admins (the views live in portal/gate/manage.py)."""

from portal.admin import bp
from portal.gate.manage import register

register(bp, "admin")
