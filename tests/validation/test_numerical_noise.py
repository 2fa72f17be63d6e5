"""validation/numerical_noise.py: the runs it makes differ from the configured night only in the reduction's
cross-talk coefficient."""

import importlib.util
import sys

import pytest
from conftest import REPO

sys.path.insert(0, str(REPO / "validation"))
spec = importlib.util.spec_from_file_location("numerical_noise", REPO / "validation" / "numerical_noise.py")
numerical_noise = importlib.util.module_from_spec(spec)
spec.loader.exec_module(numerical_noise)


def test_each_run_scales_only_the_reductions_coefficient_and_has_its_own_directory(monkeypatch):
    config = numerical_noise.validated_config()  # as the script reads it
    runs = []
    monkeypatch.setattr(
        numerical_noise, "run_workflow", lambda workdir, config, targets, cores: runs.append((workdir, config, targets))
    )
    for factor in numerical_noise.FACTORS:
        numerical_noise.run_perturbed(config, factor, 2)
    coefficient = config["imaging"]["reduction"]["row_crosstalk"]
    assert coefficient > 0  # the configuration itself is left as it was
    assert len({workdir for workdir, _, _ in runs}) == len(numerical_noise.FACTORS)
    for factor, (_, run, targets) in zip(numerical_noise.FACTORS, runs, strict=True):
        assert run["imaging"]["reduction"]["row_crosstalk"] == pytest.approx(factor * coefficient)
        assert run["imaging"]["simulation"] == config["imaging"]["simulation"]  # the same raw frames
        assert run["imaging"]["survey"]["n_fields"] == 0
        assert targets[0].endswith("object11/summary.json")
