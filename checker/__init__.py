"""The ligging checker: case model, readers and writers, engine, advice, policy, views and the CLI.

`checker` depends on `dsl` (rule packs as data) and `nen7171` (the standard as
reference); it never parses rule text itself. Inside it, imports point one way:
model ← io ← engine ← advice ← pipeline ← policy, views ← cli.
"""
