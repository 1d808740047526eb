"""``python -m flywheel``: the command line."""

import sys

from .present.cli import main

sys.exit(main())
