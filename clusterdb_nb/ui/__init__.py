"""ipywidgets forms on the session's public API (no business logic here).

>>> s.fleet_form()       # create a fleet
>>> s.scaler("web")      # scale one, seeing the $/h delta first
>>> s.dashboard()        # fleets, instances, functions, costs, utilization
>>> s.tuner("web")       # tune its autoscaling on its own CPU %, then apply
"""

from .dashboard import Dashboard
from .fleet_form import FleetForm
from .scaler import Scaler
from .tuner import Tuner

__all__ = ["Dashboard", "FleetForm", "Scaler", "Tuner"]
