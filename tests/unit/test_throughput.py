"""The planner's throughput model (pipeline.throughput): which side bounds a GPU class, the instance
that makes an audio hour cheapest, and the figures it reads (docs/CPU_STAGE.md)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from pipeline import throughput
from pipeline.gpu_classes import GPU_CLASSES

from tests.unit.test_plan_job import plan_for

ROOT = Path(__file__).resolve().parents[2]


def generator() -> Any:
    path = ROOT / "benchmarks" / "throughput_figures.py"
    spec = importlib.util.spec_from_file_location("throughput_figures", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def figures(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Replace the committed figures: `set(cpu_ms, gpu_rtfx)` for the L40S."""

    def set_figures(cpu_ms: float, gpu_rtfx: float) -> None:
        doc = {
            "cpu": {"ms_per_audio_s": cpu_ms},
            "gpu_rtfx": {"NVIDIA L40S": {"value": gpu_rtfx, "measured": False}},
        }
        monkeypatch.setattr(throughput, "figures", lambda: doc)

    return set_figures


def test_the_committed_figures_are_what_the_committed_measurements_give() -> None:
    committed = json.loads(throughput.FIGURES_PATH.read_text())
    assert committed == json.loads(json.dumps(generator().make()))


def test_a_class_the_cpu_bounds_moves_to_a_larger_instance_of_its_gpu_when_that_is_cheaper(figures) -> None:
    # Given a CPU stage of 1.5 ms per audio second per vCPU and an L40S that transcribes 3300x
    figures(1.5, 3300.0)
    small = throughput.evaluate("NVIDIA L40S", throughput.option("NVIDIA L40S", "g6e.xlarge"))
    chosen = throughput.best("NVIDIA L40S")
    # Then 3 workers on 4 vCPUs cannot feed it, and the 8-vCPU instance costs less per audio hour
    assert (small.bound, small.cpu_workers) == ("cpu", 3)
    assert chosen.instance == "g6e.2xlarge" and chosen.bound == "gpu"
    assert chosen.usd_per_audio_hour < small.usd_per_audio_hour


def test_a_class_the_gpu_bounds_stays_on_its_smallest_instance(figures) -> None:
    figures(1.5, 1000.0)
    chosen = throughput.best("NVIDIA L40S")
    assert (chosen.instance, chosen.bound) == ("g6e.xlarge", "gpu")
    assert chosen.cpu_workers == 2  # ceil(1000 / 667): no more workers than the GPU can use


def test_workers_never_exceed_the_vcpus_left_after_the_reserve(figures) -> None:
    figures(10.0, 3300.0)
    assert throughput.cpu_workers("NVIDIA L40S", 4) == 4 - throughput.RESERVED_VCPUS


@pytest.mark.parametrize(
    ("device", "gpu"),
    [
        ("NVIDIA L4", "NVIDIA L4"),
        ("NVIDIA L40S", "NVIDIA L40S"),
        ("NVIDIA H100 80GB HBM3", "NVIDIA H100 80GB"),
        ("NVIDIA A100-SXM4-80GB", None),
    ],
)
def test_a_cuda_device_name_maps_to_its_class_gpu(device, gpu) -> None:
    assert throughput.class_gpu(device) == gpu


def test_every_class_runs_on_the_cheapest_instance_per_audio_hour_of_its_gpu() -> None:
    for gpu_class in GPU_CLASSES.values():
        assert gpu_class.instance_types == (throughput.best(gpu_class.gpu).instance,)


def test_the_plan_states_which_side_bounds_its_instance_and_how_many_cpu_workers_feed_it() -> None:
    result = plan_for(60)
    expected = throughput.evaluate(
        GPU_CLASSES["small"].gpu, throughput.option(GPU_CLASSES["small"].gpu, result["instance_types"][0])
    )
    assert (result["throughput_bound"], result["cpu_workers"]) == (expected.bound, expected.cpu_workers)
    # an instance type the model does not know gets no verdict
    other = plan_for(60, INSTANCE_TYPES_SMALL="g6.48xlarge")
    assert (other["throughput_bound"], other["cpu_workers"]) == (None, None)
