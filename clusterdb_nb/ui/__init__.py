"""ipywidgets forms on the session's public API (no business logic here).

>>> s.fleet_form()       # create a fleet
>>> s.scaler("web")      # scale one, seeing the $/h delta first
>>> s.dashboard()        # fleets, instances, functions, costs, utilization
"""

from .dashboard import Dashboard
from .fleet_form import FleetForm
from .scaler import Scaler

__all__ = ["Dashboard", "FleetForm", "Scaler"]
