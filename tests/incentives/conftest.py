"""The incentives tests read the English messages and labels: each runs with English active (pages
choose theirs from the request as usual), so a test's outcome does not depend on which test
ran before it in the same process."""

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield
