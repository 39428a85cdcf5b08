"""What a person looks at: drawings (SVG/PNG), the HTML report, the live editor, the terminal progress bar.

Imports everything below it (`model`, `io`, `engine`, `advice`, `pipeline`); never `policy` or the CLI.
"""
