"""The rollout tests' stand-ins (fault proxy, `pulumi` CLI) live beside them."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
