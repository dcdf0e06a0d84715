"""``python -m sockserve``: the ``sockserve`` command."""

import sys

from sockserve.command import main

sys.exit(main())
