from portal.models import Role
from portal.web.tenancy import estate_blueprint

bp = estate_blueprint("resident", __name__, Role.RESIDENT)

import portal.web.resident.walkins_views  # noqa: E402,F401 - walk-ins waiting at the gate
from portal.web.resident import amenities_views, billing_views, views, visits_views  # noqa: E402,F401
