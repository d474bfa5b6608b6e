"""``python -m wasmdbg``: the same as the ``wasmdbg`` console script."""

import sys

from .cli.main import main

sys.exit(main())
