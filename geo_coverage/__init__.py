"""geo-coverage: do a city's facilities meet its plan's mandates, district by district and street by street?"""

from .errors import DataError, GeoCoverageError, PlanError, ScenarioError

__version__ = "0.1.0"
__all__ = ["GeoCoverageError", "DataError", "PlanError", "ScenarioError", "__version__"]
