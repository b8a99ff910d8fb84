"""Benchmark tooling: ``flask bench seed`` builds a whole street or district of data."""
