"""What the rules do to each other: the harmonisation backlog, urgency, what-if, the rules matrix.

Imports everything below it (`model`, `io`, `engine`, `advice`, `pipeline`), never `views` or the CLI.
"""
