"""`python -m threadline_benchmarks`: see threadline_benchmarks.cli."""

import sys

from threadline_benchmarks.cli import main

sys.exit(main())
