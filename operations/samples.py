"""Write records of a resource as one loaded batch, without the ingest pipeline (the
record store writes them).

Used by the demo, the tests and the benchmark, so the operations view can be exercised
before (or without) the connectors app: rows are already-normalised dicts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from hub.catalog.models import DataResource
from hub.records.models import BatchSource, BatchStatus, Record, UploadBatch
from hub.records.recordstore import RecordStore


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def record_key(resource: DataResource, row: Mapping[str, Any]) -> str:
    """The natural key of a row: its key fields joined by '|'."""
    return "|".join(str(_json_value(row[name])) for name in resource.key_fields)


@transaction.atomic
def load_rows(
    *,
    resource: DataResource,
    rows: Iterable[Mapping[str, Any]],
    label: str = "",
    chunk_size: int = 5000,
) -> UploadBatch:
    """Create a LOADED batch and upsert its rows as records; the same rows twice is a no-op."""
    rows = list(rows)
    payload = json.dumps(
        [{k: _json_value(v) for k, v in r.items()} for r in rows], sort_keys=True, default=str
    )
    digest = hashlib.sha256((label + payload).encode()).hexdigest()
    existing = UploadBatch.objects.filter(resource=resource, sha256=digest).first()
    if existing is not None:
        # The same content loads once (as in the ingest pipeline): nothing to do.
        return existing
    batch = UploadBatch.objects.create(
        resource=resource,
        department=resource.provider,
        source=BatchSource.API,
        sha256=digest,
        original_filename=label,
        status=BatchStatus.LOADED,
        rows_read=len(rows),
        inserted=len(rows),
        finished_at=timezone.now(),
    )
    records = []
    for number, row in enumerate(rows, start=1):
        data = {k: _json_value(v) for k, v in row.items()}
        observed = row.get(resource.time_field) if resource.time_field else None
        records.append(
            Record(
                resource=resource,
                key=record_key(resource, row),
                data=data,
                observed_at=observed if isinstance(observed, datetime) else None,
                district_code=str(row.get(resource.district_field) or ""),
                latitude=row.get(resource.latitude_field) if resource.latitude_field else None,
                longitude=row.get(resource.longitude_field) if resource.longitude_field else None,
                content_hash=hashlib.md5(  # noqa: S324 - a change detector, not security
                    json.dumps(data, sort_keys=True).encode()
                ).hexdigest(),
                batch=batch,
                source_row=number,
            )
        )
    # The store drops the resource's source-row fingerprints first (waiting for a load
    # of the resource in progress).
    RecordStore(resource).save(records, chunk_size=chunk_size)
    DataResource.objects.filter(pk=resource.pk).update(last_loaded_at=timezone.now())
    return batch
