"""`python -m knowco bench re|lp`: reproducible few-shot benchmarks on any directory in the shared layouts."""
