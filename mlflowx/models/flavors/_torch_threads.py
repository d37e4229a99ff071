"""Small batches on one torch intra-op thread.

torch runs an operator on its OpenMP team (one thread per core) once the input is large enough.
For the inputs a scoring request brings (up to :data:`SMALL_BATCH` rows) the team's start and
barrier cost more than the work, and on a busy machine a descheduled team member stalls the
whole operator: measured on 2 shared cores (load ~3.6), a 1,000-row MLP forward took 16 ms
with 2 threads and 2.7 ms with 1. Larger batches keep torch's threads. Each output element is
computed by one thread either way, so results do not depend on it (tested against the
multithreaded MLflow side).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

__all__ = ["SMALL_BATCH", "threads_for"]

SMALL_BATCH = 1024


@contextlib.contextmanager
def threads_for(data: Any) -> Iterator[None]:
    """One intra-op thread while predicting on ``data`` of up to SMALL_BATCH rows."""
    import torch

    rows = len(data) if hasattr(data, "__len__") else SMALL_BATCH + 1
    before = torch.get_num_threads()
    if rows > SMALL_BATCH or before == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
