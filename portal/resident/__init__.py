from portal.models import Role
from portal.tenancy import estate_blueprint

bp = estate_blueprint("resident", __name__, Role.RESIDENT)

from portal.resident import views, visits_views  # noqa: E402,F401
