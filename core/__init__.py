"""The neutral base every package may import: the error root, the strict YAML reader with line
lookup, the one pydantic-error describer and the generic ``Registry``.

It owns no domain: it must not import any other package of the project.
"""
