"""Signals between apps, so the catalog does not import the apps built on it.

``batch_loaded`` is sent by the ingest service *after the batch's transaction has
committed* (via ``transaction.on_commit``), with ``sender=UploadBatch`` and ``batch``,
the loaded ``UploadBatch``. The operations app listens and enqueues its sync.

``records_deleting`` is sent by ``RecordStore.delete`` inside its transaction, before the
delete, with ``sender=Record``, ``resource_id`` and ``records`` (the queryset about to be
deleted). Apps above keep references to records without a database constraint (so record
deletes stay one fast ``DELETE``, which Django's collector cannot do for a ``SET_NULL``
relation: it would load every record first) and clear them here.

``records_corrected`` is sent *after commit* when records were changed in place outside
a load (an objection's correction, ``governance.services.correct_value``), with
``sender=Record``, ``resource_id``, ``keys`` (the changed records' keys) and
``batch_ids`` (the batches that last wrote them). What is built from records by batch
(the operations sync) rebuilds those batches, as after their load.
"""

from django.dispatch import Signal

batch_loaded = Signal()
records_deleting = Signal()
records_corrected = Signal()
