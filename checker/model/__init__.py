"""What a section is and what is found: the case model, its geometry, findings.

Imports nothing from the rest of `checker`; every other part reads these types.
"""
