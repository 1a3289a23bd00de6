"""Signals between apps, so the catalog does not import the apps built on it.

``batch_loaded`` is sent by the ingest service *after the batch's transaction has
committed* (via ``transaction.on_commit``), with ``sender=UploadBatch`` and ``batch``,
the loaded ``UploadBatch``. The operations app listens and enqueues its sync.
"""

from django.dispatch import Signal

batch_loaded = Signal()
