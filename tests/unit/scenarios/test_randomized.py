"""Randomized mode: seeded faults while a workload runs, then heal, then the invariants.

A seed replays exactly (the forked runs of ``run_seeds`` and a lone ``run_seed`` agree,
and so do two lone runs), a violation is reported with the command that replays it, and
200 seeds hold every invariant. The 200 run with 3 random faults each (the CLI's default
is 6), two forked children at a time: about 40 s on this machine under its usual load.
"""

from __future__ import annotations

import time

import pytest

from stacklab.scenarios import randomized
from stacklab.scenarios.randomized import Outcome, run_seed, run_seeds

SEEDS = 200
STEPS = 3


def test_a_seed_replays_exactly_alone_or_forked() -> None:
    first = run_seed(11, steps=4)
    again = run_seed(11, steps=4)
    (forked,) = run_seeds([11], steps=4)
    assert first.render() == again.render() == forked.render()
    assert len(first.actions) >= 5  # the workload's server, four faults, the heal
    assert first.actions[-1][1] == "heal"
    assert first.probe["network_create"]["ok"] > 0
    other = run_seed(12, steps=4)
    assert other.actions != first.actions


def test_a_violation_names_the_command_that_replays_it() -> None:
    outcome = Outcome(41, 3, violations=[(12.5, "router r: two masters")])
    assert not outcome.passed
    assert outcome.lines()[-1] == "replay: stacklab scenario random --seed 41 --steps 3"
    assert outcome.render()["replay"] == "stacklab scenario random --seed 41 --steps 3"


def test_the_checker_sees_two_masters_that_hear_each_other(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # A lab whose keepalived never resolves two masters must be caught: make every
    # VRRP group report both proxies as MASTER while they hear each other.
    from stacklab.ha.vrrp import VrrpGroup

    monkeypatch.setattr(VrrpGroup, "masters", lambda self, vrid=None: sorted(
        {i.node for i in self.instances(vrid=vrid)}))
    outcome = run_seed(3, steps=1)
    assert any("are both MASTER and hear each other" in text
               for _, text in outcome.violations), outcome.violations


@pytest.mark.timeout(180)
def test_two_hundred_seeds_hold_every_invariant() -> None:
    began = time.monotonic()
    outcomes = run_seeds(list(range(SEEDS)), steps=STEPS)
    failed = ["\n".join(outcome.lines()) for outcome in outcomes if not outcome.passed]
    assert len(outcomes) == SEEDS
    assert not failed, "\n\n".join(failed)
    print(f"{SEEDS} seeds x {STEPS} steps in {time.monotonic() - began:.1f} s, "
          f"{sum(o.lab_seconds for o in outcomes):.0f} lab seconds")
    assert randomized.BASE_SEED == 7


def test_the_lab_with_distributed_routers_holds_the_invariants_too() -> None:
    outcomes = run_seeds(list(range(20)), steps=STEPS, dvr=True)
    failed = ["\n".join(outcome.lines()) for outcome in outcomes if not outcome.passed]
    assert not failed, "\n\n".join(failed)
    assert all(outcome.dvr for outcome in outcomes)
    assert Outcome(1, 2, dvr=True).replay() == \
        "stacklab scenario random --seed 1 --steps 2 --dvr"
