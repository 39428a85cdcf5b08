"""The shipped rule packs (`*.rules`) and their tests (`*.tests.yaml`), as package data.

Nothing here is code: this module only makes the pack directory locatable with
`importlib.resources` once ligging is installed.
"""
