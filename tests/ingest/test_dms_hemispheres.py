"""Hemisphere marks in the latitude/longitude columns, end to end through ``manage.py
ingest``: a row whose two columns carry each other's marks is swapped back and noted, a
single mark that contradicts its column is a row error naming it, and the stored values
are the ones written."""

from __future__ import annotations

import json
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command

from connectors.normalisers import coordinates
from hub.records.models import Record, UploadBatch

pytestmark = pytest.mark.django_db(transaction=True)

TEXT = (
    "监测点编号,监测时间,所属区,管网压力(MPa),介质温度,压力级制,纬度,经度\n"
    "GP000001,2025-07-01 14:30:00,黄浦区,0.35,21.5,中压A,121°28′12″E,31°13′48″N\n"
    "GP000002,2025-07-01 14:30:00,黄浦区,0.35,21.5,中压A,31°13′48″W,121°28′12″E\n"
    "GP000003,2025-07-01 14:30:00,黄浦区,0.35,21.5,中压A,31°13′48″N,北纬121度28分12秒\n"
    "GP000004,2025-07-01 14:30:00,黄浦区,0.35,21.5,中压A,31°13′48″E,121°28′12″N\n"
    "GP000005,2025-07-01 14:30:00,黄浦区,0.35,21.5,中压A,31°11′24″N,121°26′12″E\n"
)
E_W = "（纬度标为东经或西经 E/W）"
N_S = "（经度标为北纬或南纬 N/S）"


def test_hemisphere_marks_in_columns_through_the_cli(gas, tmp_path):
    path = tmp_path / "gas_dms.csv"
    path.write_text(TEXT, encoding="utf-8")
    out = StringIO()
    with pytest.raises(SystemExit) as exit_code:  # loaded in part
        call_command(
            "ingest", str(path), "--resource", gas.code, "--accept-valid-rows", "--json", stdout=out
        )
    assert exit_code.value.code == 2
    summary = json.loads(out.getvalue())
    assert summary["inserted"] == 2
    swapped = [w for w in summary["warnings"] if w["code"] == "swapped_coordinates"]
    assert swapped == [
        {
            "code": "swapped_coordinates",
            "column": "纬度",
            "message": "1 行的纬度与经度填反，已对调（首个为第 2 行）。",
        }
    ]
    assert [(e["row"], e["column"], e["message"]) for e in summary["errors"]] == [
        (3, "纬度", f"度分秒坐标有误：'31°13′48″W'{E_W}"),
        (4, "经度", f"度分秒坐标有误：'北纬121度28分12秒'{N_S}"),
        # Crossed marks, but the longitude column's 121° is no latitude: neither is trusted.
        (5, "纬度", f"度分秒坐标有误：'31°13′48″E'{E_W}"),
        (5, "经度", f"度分秒坐标有误：'121°28′12″N'{N_S}"),
    ]
    stored = {
        r.data["point_id"]: (r.data["latitude"], r.data["longitude"]) for r in Record.objects.all()
    }
    # The housing connector's coordinates are GCJ-02: stored converted to WGS-84.
    written = np.array([[31.23, 121.47], [31.19, 121.4366666667]])
    lat, lon = coordinates.gcj02_to_wgs84(written[:, 0], written[:, 1])
    assert stored == {
        "GP000001": pytest.approx((lat[0], lon[0]), abs=1e-6),
        "GP000005": pytest.approx((lat[1], lon[1]), abs=1e-6),
    }
    batch = UploadBatch.objects.get(pk=summary["batch"])
    assert {"code": "swapped_coordinates", "column": "纬度", "params": {"rows": 1, "first": 2}} in (
        batch.warnings
    )
