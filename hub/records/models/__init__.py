"""Records models (数据记录): upload batches, records and their source-row fingerprints."""

from hub.records.models.batches import BatchSource, BatchStatus, Record, UploadBatch
from hub.records.models.fingerprints import RowFingerprints
from hub.records.models.merges import RecordMerge

__all__ = ["BatchSource", "BatchStatus", "Record", "RecordMerge", "RowFingerprints", "UploadBatch"]
