"""Mapping files: one declarative YAML per legacy source (docs/migration.md).

`load_mapping()` validates a file against the schema (mapping/schema.py) and answers with every
error's path and line; `readers.py` streams the source's records; `extract.py` turns one record
into a canonical one (fields, transforms, value maps) or into coded row errors.
"""
