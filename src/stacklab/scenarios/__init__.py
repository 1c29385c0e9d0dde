"""Replayable fault scenarios: steps of faults, waits, expectations and a probe workload,
run against a live cloud in real time or in-process in virtual time."""
