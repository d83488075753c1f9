"""The timing rule: a candidate must beat the baseline by the margin plus what the measurement cannot resolve."""

from __future__ import annotations

import time

from aikg_inductor.verify.timing import Measurement, faster_by_margin, measure_cpu


def test_a_speedup_inside_the_measurements_own_noise_is_not_accepted():
    steady = Measurement(baseline_s=1.10e-5, candidate_s=1.00e-5, samples=9, control_s=1.10e-5)
    noisy = Measurement(baseline_s=1.10e-5, candidate_s=1.00e-5, samples=9, control_s=1.00e-5)
    assert steady.noise == 0 and abs(noisy.noise - 0.1) < 1e-9
    assert faster_by_margin([steady, steady], margin=0.03)
    assert not faster_by_margin([steady, noisy], margin=0.03)  # 1.10x is not above 1.03 + 0.10
    assert faster_by_margin([Measurement(1.2e-5, 1e-5, 9, 1.1e-5)] * 2, margin=0.03)  # 1.20x > 1.03 + 0.09
    # a worker thread that waited 20% of the time for a core other processes held: 1.20x is not enough
    crowded = Measurement(1.2e-5, 1e-5, 9, 1.2e-5, run_queue_wait=0.2)
    assert crowded.noise == 0.2 and not faster_by_margin([crowded, crowded], margin=0.03)


def test_the_control_arm_is_the_baseline_timed_again_and_a_screen_goes_without():
    def sleeper(seconds: float):
        return lambda: time.sleep(seconds)

    with_control = measure_cpu(sleeper(10e-3), sleeper(2e-3), budget_s=0.1, control=sleeper(10e-3))
    assert with_control.control_s is not None and with_control.samples >= 7
    assert with_control.run_queue_wait is not None and 0 <= with_control.run_queue_wait <= 1  # Linux keeps schedstat
    # sleeps overshoot on a busy machine, but by milliseconds, not by the 8 ms between the arms
    assert with_control.noise < 0.5 and with_control.speedup > 1.3
    assert measure_cpu(sleeper(1e-3), sleeper(1e-3), budget_s=0.05).control_s is None


def test_the_gpu_measurement_interleaves_three_arms(monkeypatch):
    """A test double for ``triton.testing.do_bench`` (no GPU here): each arm reports its own time, in ms."""
    import triton.testing

    from aikg_inductor.verify.timing import measure_gpu

    order: list[str] = []
    fake_ms = {"baseline": 0.020, "candidate": 0.010, "control": 0.022}

    def do_bench(fn, warmup, rep, return_mode):
        name = fn()
        order.append(name)
        return fake_ms[name]

    monkeypatch.setattr(triton.testing, "do_bench", do_bench)
    m = measure_gpu(lambda: "baseline", lambda: "candidate", rounds=3, control=lambda: "control")
    # every arm takes every position once in three rounds
    assert order == ["baseline", "candidate", "control", "candidate", "control", "baseline",
                     "control", "baseline", "candidate"]
    assert (m.baseline_s, m.candidate_s, m.control_s) == (20e-6, 10e-6, 22e-6)
    assert abs(m.noise - (1 - 20 / 22)) < 1e-9
