"""Support code for the benchmarks: contenders, runs, statistics and tables (not shipped in the wheel)."""
