"""The sockserve benchmark harness: servers in their own processes, a compiled load generator.

`benchmarks/run.py` is the entry point; `benchmarks/README.md` says how to run
it, how to read its table and how to add a server variant.
"""
