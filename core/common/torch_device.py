"""Which PyTorch device Upscope computes on: the one place that decides it, for the
``torch`` backend and for model files alike."""

from __future__ import annotations

from typing import Any


def preferred_torch_device(torch: Any) -> str:
    """``"cuda"`` where PyTorch sees a CUDA GPU, else ``"mps"`` on Apple silicon, else
    ``"cpu"``. ``torch`` is the imported module (the caller has imported it)."""
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"
