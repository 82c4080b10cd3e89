"""The migration app's admin: import jobs (imports.py) and the cutover (cutover.py)."""

from migration.admin import cutover, imports, status  # noqa: F401 - registers the admin classes
