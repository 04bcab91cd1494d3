"""ipywidgets forms on the session's public API (no business logic here).

The widgets take any object with the methods of ``SessionAPI`` (a ``ComputeSession`` is one); nothing
here imports ``clusterdb_nb.session``.

>>> s.fleet_form()       # create a fleet
>>> s.scaler("web")      # scale one, seeing the $/h delta first
>>> s.dashboard()        # fleets, instances, functions, costs, utilization
>>> s.tuner("web")       # tune its autoscaling on its own CPU %, then apply
>>> s.recommendations_widget()  # what would save money: check some, see the total, Apply
>>> m.widget()           # a migration's progress, with Step / Run / Pause / Resume / Roll back
"""

from .dashboard import Dashboard
from .fleet_form import FleetForm
from .migration import MigrationProgress
from .protocol import SessionAPI
from .recommendations import RecommendationsWidget
from .scaler import Scaler
from .tuner import Tuner

__all__ = ["Dashboard", "FleetForm", "MigrationProgress", "RecommendationsWidget", "Scaler", "SessionAPI", "Tuner"]
