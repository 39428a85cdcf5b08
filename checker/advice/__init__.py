"""What would make it fit: suggestions on findings, the layout solver, capacity (`fit`).

Imports `model`, `io` and `engine`.
"""
