"""Herald's benchmarks: batch latency, throughput, scaling and the bound (`python -m bench`)."""
