"""The live editor (`ligging edit`): a local web page to drag a section's objects while the engine re-checks."""
