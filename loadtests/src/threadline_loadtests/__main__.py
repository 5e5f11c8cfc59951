"""`python -m threadline_loadtests`: see threadline_loadtests.cli."""

from __future__ import annotations

import sys

from threadline_loadtests.cli import main

sys.exit(main())
