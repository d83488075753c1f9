"""The timing rule: a candidate must beat the baseline by the margin plus what the measurement cannot resolve."""

from __future__ import annotations

import time

from aikg_inductor.verify.timing import Measurement, faster_by_margin, local_batch, measure


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
        return local_batch(lambda: time.sleep(seconds))

    with_control = measure(sleeper(10e-3), sleeper(2e-3), budget_s=0.1, control=sleeper(10e-3))
    assert with_control.control_s is not None and with_control.samples >= 7
    assert with_control.run_queue_wait is not None and 0 <= with_control.run_queue_wait <= 1  # Linux keeps schedstat
    # sleeps overshoot on a busy machine, but by milliseconds, not by the 8 ms between the arms
    assert with_control.noise < 0.5 and with_control.speedup > 1.3
    assert measure(sleeper(1e-3), sleeper(1e-3), budget_s=0.05).control_s is None


def test_the_arms_take_turns_in_every_position_and_checks_run_between_samples():
    """Test doubles for the three arms (each reports its own time per call); the order and hook calls are real."""
    order: list[str] = []
    checked: list[int] = []

    def arm(name: str, seconds: float):
        def run(calls: int) -> float:
            order.append(name)
            return seconds

        return run

    m = measure(arm("baseline", 20e-6), arm("candidate", 10e-6), budget_s=0, control=arm("control", 22e-6),
                after_sample=lambda i, _: checked.append(i))
    timed = order[12:]  # after one warm-up batch and three calibration batches per arm
    assert timed[:9] == ["baseline", "candidate", "control", "candidate", "control", "baseline",
                         "control", "baseline", "candidate"]
    assert checked == list(range(m.samples)) and m.samples >= 15
    assert (m.baseline_s, m.candidate_s, m.control_s) == (20e-6, 10e-6, 22e-6)
    assert abs(m.noise - (1 - 20 / 22)) < 1e-9
