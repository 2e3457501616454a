"""Reading the sources: OSM extracts, county GIS road layers, osmnx GraphML, point files and their datums, region presets.

Everything read from outside the package comes in here and leaves as plain
tables: a :class:`~coverage.io.roads.Roads` table of junctions and road pieces,
GeoDataFrames of facilities and places in WGS84. Nothing here knows about speeds
or travel times.

- :mod:`~coverage.io.roads`: the road table every network source produces, and the OSM highway classes.
- :mod:`~coverage.io.osm`: roads, facilities and places from an OSM extract (pyosmium).
- :mod:`~coverage.io.gis_roads`: a county office's GIS lines file, Chinese road grades.
- :mod:`~coverage.io.graphml`: osmnx GraphML files and online downloads.
- :mod:`~coverage.io.points`: facility, village and candidate files (CSV in UTF-8 or GBK, GIS formats).
- :mod:`~coverage.io.datum`: GCJ-02 and BD-09 to WGS84.
- :mod:`~coverage.io.regions`: the embedded default region and the seed-region boundaries.
- :mod:`~coverage.io.credits`: the credit each source must carry in every output.
"""
