"""NEN 7171 as a reference: surface zone kinds, standard positions, a profile generator.

`nen7171` depends on `dsl` (it reads the nen7171 rule pack's order and distances) and is
used by `checker`; it never imports `checker`.
"""
