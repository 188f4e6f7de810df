"""Benchmark studies: one question each, answered by measurement (results in docs/bench/)."""
