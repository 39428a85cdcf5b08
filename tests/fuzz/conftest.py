"""Keep pytest (and its --doctest-modules import) away from the atheris targets: they are run by hand."""

collect_ignore = ["atheris_case_loader.py"]
