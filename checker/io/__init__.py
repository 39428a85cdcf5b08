"""Files in and out: case YAML and JSON Lines, DXF, SARIF, the text report.

Readers build `checker.model` types and writers read them; `io` imports only `model`
(and `dsl`), never the engine, so any part above may use it.
"""
