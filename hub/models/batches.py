"""Names the hub's landed migrations import (``hub/migrations/0001_initial.py``)."""

from hub.records.models.batches import batch_upload_path

__all__ = ["batch_upload_path"]
