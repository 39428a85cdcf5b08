"""From paths to checked cases: discover cases, load, evaluate, suggest; in batch and in parallel.

Imports `model`, `io`, `engine` and `advice`; `policy`, `views` and the CLI run checks through it.
"""
