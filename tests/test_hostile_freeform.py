"""The hostile batch of test_hostile.py graded with `--mode freeform`: every test of that
module, on a batch of its own (a module apart, so a parallel run grades both at once)."""

import pytest
from test_hostile import *  # noqa: F403 - the same tests, with this module's batch
from test_hostile import grade_batch


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    yield from grade_batch("freeform", tmp_path_factory)
