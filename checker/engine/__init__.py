"""Rules applied to sections: selectors, evaluation (one section or many), lint, explain.

Imports `model` and `io`; nothing here proposes a change to a section (that is `advice`).
"""
