"""The ligging engine: case model and loader, geometry, evaluation, output and the CLI.

`checker` depends on `dsl` (rule packs as data) and `nen7171` (the standard as
reference); it never parses rule text itself.
"""
