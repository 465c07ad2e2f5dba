"""``python -m vision`` is the ``vision`` command."""

import sys

from vision.cli.main import main

sys.exit(main())
