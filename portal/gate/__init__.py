from portal.models import Role
from portal.tenancy import estate_blueprint

bp = estate_blueprint("gate", __name__, Role.GUARD)

from portal.gate import device, staff_views, views  # noqa: E402,F401
from portal.gate.manage import register  # noqa: E402

register(bp, "gate")  # bans and active passes, for guard supervisors
