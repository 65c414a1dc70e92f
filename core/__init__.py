"""The neutral base every package may import: the error root, the strict YAML reader with line
lookup, the one pydantic-error describer, the generic ``Registry`` and the exit codes CI reads.

It owns no domain: it must not import any other package of the project.
"""
