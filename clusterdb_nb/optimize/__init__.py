"""Cost recommendations you can act on: rules over each fleet's own history, and ``apply``.

    >>> df = s.recommendations(window="14d")      # one row per finding, biggest monthly savings first
    >>> s.apply(df.iloc[0], dry_run=True)         # the plan of its calls; nothing changes
    >>> s.apply(df.iloc[0])                       # plan, then the calls

The rules (each documented in its module and in the README's "Recommendations"): ``rightsize``,
``idle``, ``spot``, ``schedule``, ``autoscaling``, ``cross_cloud``. They read every cloud through the
session's public calls only, so they work wherever those do.
"""

from .apply import Applied, apply
from .find import RECOMMENDATIONS, RULES, as_frame, parameters, recommendations
from .model import KINDS, METHODS, Call, Recommendation, Spec
from .observe import observe

__all__ = [
    "Applied",
    "Call",
    "KINDS",
    "METHODS",
    "RECOMMENDATIONS",
    "RULES",
    "Recommendation",
    "Spec",
    "apply",
    "as_frame",
    "observe",
    "parameters",
    "recommendations",
]
