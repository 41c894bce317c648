"""The brute-force yardsticks the benchmarks time the real paths against."""
