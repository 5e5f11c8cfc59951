"""`python -m threadline_chaos`."""

import sys

from threadline_chaos.cli import main

sys.exit(main())
