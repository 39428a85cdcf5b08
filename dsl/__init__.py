"""The ligging rule language: grammar, AST, parser, diagnostics and units.

`dsl` knows nothing of geometry or cases; it turns `.rules` text into frozen
`RulePack` values (see `dsl.ast`) and reports mistakes as `Diagnostic`s.
"""
