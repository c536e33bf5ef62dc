"""``python -m agcloud_magic.standin``: same as ``agcloud-magic serve``."""

import sys

from .main import main

sys.exit(main())
