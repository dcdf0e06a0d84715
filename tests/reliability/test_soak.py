"""A short leak soak of every model (the full one: ``python -m tests.reliability.soak``)."""

from __future__ import annotations

import pytest

from . import soak
from .models import MODELS


def test_a_short_soak_of_every_model_leaks_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    status = soak.main(["--requests", "2000"])
    report = capsys.readouterr().out
    assert status == 0, report
    assert report.count(" yes") >= 2 * len(MODELS)  # a line per model, then the table
