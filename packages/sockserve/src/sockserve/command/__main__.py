"""``python -m sockserve.command``: the ``sockserve`` command."""

import sys

from ._cli import main

sys.exit(main())
