"""``python -m lossbook`` is the ``lossbook`` command."""
import sys

from lossbook.cli import main

sys.exit(main())
