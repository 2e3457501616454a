"""Who made each input: the credit line every output of an analysis must carry.

OpenStreetMap data is ODbL and WorldPop rasters are CC BY 4.0: both must be
credited wherever their data shows. A county's own road layer or facility list is
not OpenStreetMap, and a raster rescaled to census totals is no longer the
producer's raw figures, so the credit is built from the inputs actually used:
one :class:`SourceNote` per input, and :func:`credit_line` joining them for maps,
reports and files.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

OSM_CREDIT = "© OpenStreetMap contributors (ODbL 1.0)"
GHS_POP_CREDIT = "GHS-POP, European Commission JRC (CC BY 4.0)"

#: GeoTIFF tags a producer may put its credit in, in order of preference (this package writes the first).
RASTER_CREDIT_TAGS = ("TIFFTAG_COPYRIGHT", "COPYRIGHT", "ATTRIBUTION", "CREDIT")
#: The GeoTIFF tag this package writes a raster's licence in, beside its credit.
RASTER_LICENCE_TAG = "LICENCE"

_OSM_SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.bz2", ".osm.gz")


@dataclass(frozen=True)
class SourceNote:
    """One input of an analysis and the credit it must carry.

    Attributes
    ----------
    role : str
        What the input is for: ``roads``, ``facilities``, ``villages``,
        ``population``, ``population totals``, ``admin units``.
    name : str
        The file's name, or a description when the input is not a file.
    credit : str
        The line to show wherever the data shows (maps, reports, file metadata).
    licence : str
        The data's licence when known (``ODbL 1.0``, ``CC BY 4.0``), else ``""``.
    """

    role: str
    name: str
    credit: str
    licence: str = ""

    def as_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return {"role": self.role, "name": self.name, "credit": self.credit, "licence": self.licence}


def credit_line(notes: Iterable[SourceNote]) -> str:
    """The credits of some inputs as one line, each credit once, in the order given.

    Inputs sharing a credit (roads, facilities and villages from one OSM extract)
    are named together: ``Roads, facilities, villages: © OpenStreetMap contributors``.
    """
    roles: dict[str, list[str]] = {}
    for note in notes:
        roles.setdefault(note.credit, [])
        if note.role not in roles[note.credit]:
            roles[note.credit].append(note.role)
    parts = []
    for credit, named in roles.items():
        label = ", ".join(named)
        parts.append(f"{label[:1].upper()}{label[1:]}: {credit}")
    return "; ".join(parts)


def is_osm_file(path: str | os.PathLike[str]) -> bool:
    """True for an OpenStreetMap extract (``.osm.pbf``, ``.osm``, ``.osm.bz2``...)."""
    return Path(path).name.lower().endswith(_OSM_SUFFIXES)


def _graphml_from_osm(path: Path) -> bool:
    """True when a GraphML file's attribute keys say it was built from OSM (osmnx writes ``osmid``)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(65536)
    except OSError:
        return False
    return b'attr.name="osmid"' in head or b"OSMnx" in head


def network_note(path: str | os.PathLike[str]) -> SourceNote:
    """The credit of a road network file: OpenStreetMap for an extract or an osmnx graph, else the file itself."""
    path = Path(path)
    if is_osm_file(path) or (path.name.lower().endswith(".graphml") and _graphml_from_osm(path)):
        return SourceNote("roads", path.name, OSM_CREDIT, "ODbL 1.0")
    return SourceNote("roads", path.name, f"{path.name} (the road layer given)")


def points_note(role: str, source: Any, *, osm: str | os.PathLike[str]) -> SourceNote:
    """The credit of facilities or villages: OpenStreetMap when read from the extract, else the user's file."""
    if source is None:
        if is_osm_file(osm):
            return SourceNote(role, Path(osm).name, OSM_CREDIT, "ODbL 1.0")
        return SourceNote(role, Path(osm).name, f"{Path(osm).name} (the road layer given)")
    if isinstance(source, str | os.PathLike):
        name = Path(source).name
        return SourceNote(role, name, f"{name} (the {role} file given)")
    return SourceNote(role, f"{role} table", f"the {role} table given")


def zones_note(path: str | os.PathLike[str], *, credit: str | None = None) -> SourceNote:
    """The credit of an admin-unit polygon file: ``credit`` when known (a shipped file), else the file itself."""
    name = Path(path).name
    if credit == OSM_CREDIT:
        return SourceNote("admin units", name, OSM_CREDIT, "ODbL 1.0")
    return SourceNote("admin units", name, credit or f"{name} (the admin units given)")


def _worldpop_credit(stem: str) -> str | None:
    """WorldPop's credit for a file named as WorldPop names them (``chn_ppp_2020_UNadj``), else None."""
    match = re.fullmatch(r"[a-z]{3}_(ppp|pd|f_\d+|m_\d+)_(\d{4})(_.*)?", stem.lower())
    if match is None and "worldpop" not in stem.lower():
        return None
    year = f" {match[2]}" if match else ""
    adjusted = ", UN-adjusted" if match and "unadj" in (match[3] or "") else ""
    return f"WorldPop{year}{adjusted} (CC BY 4.0)"


def raster_tags(path: str | os.PathLike[str]) -> dict[str, str]:
    """The GeoTIFF's dataset tags (upper-case keys); empty when the file cannot be read."""
    try:
        import rasterio

        with rasterio.open(path) as src:
            return {key.upper(): str(value) for key, value in src.tags().items()}
    except Exception as error:  # unreadable files are reported when the raster is read
        logger.debug("no tags read from %s (%s)", path, error)
        return {}


def raster_credit(path: str | os.PathLike[str]) -> tuple[str, str]:
    """The credit and licence of a population raster.

    The credit its producer wrote into the GeoTIFF (a copyright tag; this package
    writes one into the rasters it derives, such as a calibrated raster or a batch
    region's window) comes first; then WorldPop and GHS-POP rasters are recognised
    by the names their producers give them; any other raster is credited by its
    file name.

    Returns
    -------
    (credit, licence)
    """
    path = Path(path)
    tags = raster_tags(path)
    for key in RASTER_CREDIT_TAGS:
        text = tags.get(key, "").strip()
        if text:
            return text, tags.get(RASTER_LICENCE_TAG, "").strip()
    stem = path.name.split(".")[0]
    worldpop = _worldpop_credit(stem)
    if worldpop is not None:
        return worldpop, "CC BY 4.0"
    if stem.upper().startswith("GHS_POP"):
        return GHS_POP_CREDIT, "CC BY 4.0"
    return f"{path.name} (the population raster given)", ""


def credit_tags(credit: str, licence: str) -> dict[str, str]:
    """GeoTIFF tags carrying a raster's credit and licence (see :func:`raster_credit`)."""
    return {RASTER_CREDIT_TAGS[0]: credit, **({RASTER_LICENCE_TAG: licence} if licence else {})}


def population_note(path: str | os.PathLike[str], *, calibrated_to: str | None = None) -> SourceNote:
    """The credit of a population raster, saying so when it was calibrated to official totals."""
    credit, licence = raster_credit(path)
    if calibrated_to:
        credit = f"{credit}, calibrated to {calibrated_to}"
    return SourceNote("population", Path(path).name, credit, licence)


def totals_note(name: str, credit: str | None = None) -> SourceNote:
    """The credit of the official population totals a raster or the villages were calibrated to (default: their name)."""
    return SourceNote("population totals", name, credit or name)
