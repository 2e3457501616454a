"""Facility coverage analyzer: travel times, isochrones and coverage targets on real road networks.

The public API, importable from here (``from coverage import analyze, assess, site``)::

    analysis = analyze()                         # the embedded default region
    assessment = assess("kaijiang", osm="county.osm.pbf", population="pop.tif")
    result = site(analysis, model="mclp", k=2, minutes=30)
    save_map(coverage_map(analysis, sites=result.sites), "maps/county.html")

The package is grouped by stage of the data flow; a stage imports only the
stages before it (see ``coverage/README.md``):

``io`` → ``network`` → ``analysis`` → ``standards`` → ``siting`` → ``ems`` → ``outputs`` →
``reports`` → ``batch`` → ``webapp`` → ``cli``.

Names are loaded on first use, so ``import coverage`` (and the command's
``--help``) stays quick.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from coverage._errors import ConfigError, CoverageError, InputError, NetworkUnavailableError
from coverage._version import __version__

if TYPE_CHECKING:
    from coverage.analysis.areas import catchments, isochrone_areas
    from coverage.analysis.isochrones import isochrones, service_areas
    from coverage.analysis.result import Analysis
    from coverage.analysis.run import analyze
    from coverage.analysis.surface import TravelTimeSurface, travel_time_surface
    from coverage.batch.regions import read_regions
    from coverage.batch.runner import BatchResult, run_batch
    from coverage.ems.proposal import Proposal, allocate
    from coverage.ems.run import EmsResult, ems_availability
    from coverage.ems.simulation import ServiceTimes
    from coverage.io.osm import facilities_from_osm, places_from_osm, roads_from_osm
    from coverage.io.points import read_points
    from coverage.io.regions import default_region
    from coverage.network.incremental import IncrementalReach
    from coverage.network.prepared import Network
    from coverage.network.profiles import Profile, list_profiles, load_profile
    from coverage.network.routing import nearest_facility, reach_points, travel_time_table
    from coverage.network.snapping import attach_points
    from coverage.network.sources import load_network
    from coverage.outputs.ems_outputs import ems_map, write_ems
    from coverage.outputs.files import write_assessment, write_outputs, write_sites
    from coverage.outputs.maps import coverage_map, save_map
    from coverage.outputs.static_map import draw_static_map
    from coverage.reports.config import load_run_config
    from coverage.reports.history import open_history
    from coverage.reports.report import ReportResult, run_report
    from coverage.siting.candidates import candidates_from
    from coverage.siting.models import SitingResult, coverage_matrix, site
    from coverage.standards.assessment import Assessment, assess
    from coverage.standards.standard import Standard, list_standards, load_standard
    from coverage.webapp.scenario import Scenario
    from coverage.webapp.workspace import Workspace

#: Each public name and the module it lives in.
_API = {
    # io: reading sources
    "read_points": "coverage.io.points",
    "facilities_from_osm": "coverage.io.osm",
    "places_from_osm": "coverage.io.osm",
    "roads_from_osm": "coverage.io.osm",
    "default_region": "coverage.io.regions",
    # network: profiles, the prepared network, snapping, routing
    "Profile": "coverage.network.profiles",
    "list_profiles": "coverage.network.profiles",
    "load_profile": "coverage.network.profiles",
    "Network": "coverage.network.prepared",
    "load_network": "coverage.network.sources",
    "attach_points": "coverage.network.snapping",
    "nearest_facility": "coverage.network.routing",
    "reach_points": "coverage.network.routing",
    "travel_time_table": "coverage.network.routing",
    "IncrementalReach": "coverage.network.incremental",
    # analysis
    "analyze": "coverage.analysis.run",
    "Analysis": "coverage.analysis.result",
    "isochrones": "coverage.analysis.isochrones",
    "service_areas": "coverage.analysis.isochrones",
    "TravelTimeSurface": "coverage.analysis.surface",
    "travel_time_surface": "coverage.analysis.surface",
    "isochrone_areas": "coverage.analysis.areas",
    "catchments": "coverage.analysis.areas",
    # standards
    "Standard": "coverage.standards.standard",
    "list_standards": "coverage.standards.standard",
    "load_standard": "coverage.standards.standard",
    "assess": "coverage.standards.assessment",
    "Assessment": "coverage.standards.assessment",
    # siting
    "site": "coverage.siting.models",
    "SitingResult": "coverage.siting.models",
    "coverage_matrix": "coverage.siting.models",
    "candidates_from": "coverage.siting.candidates",
    # EMS availability
    "ems_availability": "coverage.ems.run",
    "EmsResult": "coverage.ems.run",
    "ServiceTimes": "coverage.ems.simulation",
    "allocate": "coverage.ems.proposal",
    "Proposal": "coverage.ems.proposal",
    # outputs
    "write_ems": "coverage.outputs.ems_outputs",
    "ems_map": "coverage.outputs.ems_outputs",
    "write_outputs": "coverage.outputs.files",
    "write_assessment": "coverage.outputs.files",
    "write_sites": "coverage.outputs.files",
    "coverage_map": "coverage.outputs.maps",
    "save_map": "coverage.outputs.maps",
    "draw_static_map": "coverage.outputs.static_map",
    # reports and batch runs
    "load_run_config": "coverage.reports.config",
    "run_report": "coverage.reports.report",
    "ReportResult": "coverage.reports.report",
    "open_history": "coverage.reports.history",
    "run_batch": "coverage.batch.runner",
    "BatchResult": "coverage.batch.runner",
    "read_regions": "coverage.batch.regions",
    # the what-if web app's scenarios
    "Workspace": "coverage.webapp.workspace",
    "Scenario": "coverage.webapp.scenario",
}

__all__ = [
    "Analysis",
    "Assessment",
    "BatchResult",
    "ConfigError",
    "CoverageError",
    "EmsResult",
    "IncrementalReach",
    "InputError",
    "Network",
    "NetworkUnavailableError",
    "Profile",
    "Proposal",
    "ReportResult",
    "Scenario",
    "ServiceTimes",
    "SitingResult",
    "Standard",
    "TravelTimeSurface",
    "Workspace",
    "__version__",
    "allocate",
    "analyze",
    "assess",
    "attach_points",
    "candidates_from",
    "catchments",
    "coverage_map",
    "coverage_matrix",
    "default_region",
    "draw_static_map",
    "ems_availability",
    "ems_map",
    "facilities_from_osm",
    "isochrone_areas",
    "isochrones",
    "list_profiles",
    "list_standards",
    "load_network",
    "load_profile",
    "load_run_config",
    "load_standard",
    "nearest_facility",
    "open_history",
    "places_from_osm",
    "reach_points",
    "read_points",
    "read_regions",
    "roads_from_osm",
    "run_batch",
    "run_report",
    "save_map",
    "service_areas",
    "site",
    "travel_time_surface",
    "travel_time_table",
    "write_assessment",
    "write_ems",
    "write_outputs",
    "write_sites",
]


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        msg = f"module 'coverage' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
