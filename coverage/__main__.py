"""``python -m coverage`` runs the ``facility-coverage`` command."""

import sys

from coverage.cli.main import main

sys.exit(main())
