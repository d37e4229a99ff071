"""Small batches predict on one torch thread (PyTorch models, Keras on torch), with the same
results as torch's own threads, and the thread count is restored."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch

from mlflowx.models.flavors import _torch_threads
from mlflowx.models.flavors._torch_threads import SMALL_BATCH, threads_for


@pytest.fixture
def two_threads() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_one_thread_inside_for_small_batches_only(two_threads: None) -> None:
    seen = []
    for rows in (1, SMALL_BATCH, SMALL_BATCH + 1):
        with threads_for(np.zeros((rows, 2))):
            seen.append(torch.get_num_threads())
        assert torch.get_num_threads() == 2
    assert seen == [1, 1, 2]


def test_restored_after_an_error(two_threads: None) -> None:
    with pytest.raises(RuntimeError, match="boom"), threads_for(np.zeros((3, 2))):
        raise RuntimeError("boom")
    assert torch.get_num_threads() == 2


def test_same_results_as_torch_threads(two_threads: None, monkeypatch: pytest.MonkeyPatch) -> None:
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(64, 256), torch.nn.ReLU(), torch.nn.Linear(256, 8)
    ).eval()
    x = torch.from_numpy(np.random.default_rng(0).normal(size=(800, 64)).astype(np.float32))
    with torch.no_grad():
        threaded = net(x).numpy()
        monkeypatch.setattr(_torch_threads, "SMALL_BATCH", 10_000)
        with threads_for(x):
            assert torch.get_num_threads() == 1
            single = net(x).numpy()
    np.testing.assert_array_equal(single, threaded)
