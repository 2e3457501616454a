"""The routable network: speed profiles, the prepared network, snapping and routing.

A :class:`~coverage.io.roads.Roads` table and a speed
:class:`~coverage.network.profiles.Profile` become a
:class:`~coverage.network.prepared.Network` (compact CSR arrays, cached); points
are attached to its nearest road pieces; one multi-source search gives every
node's time to or from the nearest facility.

- :mod:`~coverage.network.profiles`: speed profiles (TOML files in ``data/profiles``).
- :mod:`~coverage.network.prepared`: the prepared network and its cache.
- :mod:`~coverage.network.sources`: any road source to a prepared network (:func:`load_network`).
- :mod:`~coverage.network.snapping`: points attached to the nearest road piece, with an access leg.
- :mod:`~coverage.network.routing`: multi-source and bounded searches, the travel-time table.
"""
