"""How a build cuts its files into worker tasks (presslens.build._task_sizes)."""
from __future__ import annotations

import pytest

from presslens import build as b


@pytest.mark.parametrize("n_files,n_workers", [(0, 2), (1, 1), (5, 2), (39, 2), (100, 2), (3609, 2), (10_000, 2),
                                               (10_000, 16)])
def test_every_file_is_in_exactly_one_task_and_tasks_shrink_towards_the_end(n_files, n_workers):
    sizes = b._task_sizes(n_files, n_workers)
    assert sum(sizes) == n_files and all(s >= 1 for s in sizes)
    body = sizes[:-1]  # the last task takes whatever is left
    assert all(x >= y for x, y in zip(body, body[1:]))
    assert max(sizes, default=0) <= b.CHUNK_FILES
    if n_files >= 1000:
        # the last task of each worker is small: nobody waits long for a 200-file task
        assert max(sizes[-n_workers:]) <= b.MIN_TASK_FILES
        # and tasks stay big enough that their fixed cost does not dominate
        assert min(sizes[:-1]) >= b.MIN_TASK_FILES


def test_a_small_rebuild_still_spreads_over_the_workers():
    # 5 changed files and a warm pool of 2: one file per task, not one task for one worker
    assert b._task_sizes(5, 2) == [1, 1, 1, 1, 1]
