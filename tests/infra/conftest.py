"""The infra tests mirror infra/ in subfolders; their shared helpers (infra_helpers) live here."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
