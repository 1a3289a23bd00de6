"""Signals the catalog sends to the layers above it (it imports none of them).

``catalog_changed`` is sent inside the transaction of every catalog write service with
``actor``, ``action``, ``resource``, ``fields`` and ``detail``; the permissions app
appends the audit event and returns it, so the change and its event commit together.
"""

from django.dispatch import Signal

catalog_changed = Signal()
