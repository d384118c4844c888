"""The hostile batch of test_hostile.py graded with `--mode freeform`: its tests on a batch
of its own (a module apart, so a parallel run grades both at once), but for the file-system
attacks, which are refused or named before any mode applies."""

import pytest
from test_hostile import (  # noqa: F401 - the same tests, with this module's batch
    grade_batch,
    pytestmark,
    test_batch_completes,
    test_batch_within_time_bound,
    test_connection_file_not_writable,
    test_grader_memory_bounded,
    test_html_is_escaped,
    test_no_file_written_outside_output,
    test_no_nested_user_namespace,
    test_no_network_connection,
    test_no_sandbox_process_remains,
    test_output_not_written_by_sandbox,
    test_outputs_stay_small,
    test_reference_never_leaks,
    test_secret_never_leaks,
    test_verdicts,
)


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    yield from grade_batch("freeform", tmp_path_factory, specials=False)
