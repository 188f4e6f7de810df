"""The HTTP contract and bad-input matrix of tests/contract, against each running image.

The tests are the same functions the local target runs (imported, so collected again here);
`target` here is the container (tests/image/conftest.py).
"""

from __future__ import annotations

import pytest

from tests.contract.test_contract_api import *  # noqa: F403 - the shared cases, collected here
from tests.contract.test_contract_bad_inputs import *  # noqa: F403

pytestmark = pytest.mark.slow
