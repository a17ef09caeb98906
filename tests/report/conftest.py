"""The report tests import ``classes.py`` (synthetic classes) from beside this file."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
