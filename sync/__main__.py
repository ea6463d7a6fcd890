"""`python -m sync` does what the `kpi-sync` console script does."""

import sys

from sync.cli import main

sys.exit(main())
