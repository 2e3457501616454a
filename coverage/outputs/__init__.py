"""What a planner opens: files for Excel and QGIS, the HTML coverage map, the printable PNG.

- :mod:`~coverage.outputs.files`: GeoPackage, CSV (UTF-8 with BOM) and JSON, written all or nothing.
- :mod:`~coverage.outputs.maps`: the self-contained folium HTML map.
- :mod:`~coverage.outputs.static_map`: the A4 PNG map.
"""
