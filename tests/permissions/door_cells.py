"""Requests of the door matrix: one client per kind of caller, one answer per cell."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.test import Client

from tests.permissions.door_requests import (
    POST_ONLY,
    admin_model_requests,
    admin_site_requests,
    url_requests,
)
from tests.permissions.door_urls import admin_model_doors, admin_site_doors, url_doors
from tests.permissions.door_world import World


@dataclass
class Answer:
    status: int
    body: str
    location: str = ""


def all_cells(world: World) -> dict[str, tuple[str, str]]:
    """{cell name: (door key, URL)} of every door of the hub in this world."""
    cells: dict[str, tuple[str, str]] = {}
    for key in url_doors():
        for cell, url in url_requests(key, world).items():
            cells[cell] = (key, url)
    for key in admin_site_doors():
        for cell, url in admin_site_requests(key, world).items():
            cells[cell] = (key, url)
    for label, views in admin_model_doors().items():
        for view in views:
            for cell, url in admin_model_requests(label, view, world).items():
                cells[cell] = (f"admin:{label}:{view}", url)
    return cells


def client_for(world: World, caller: str) -> Client:
    client = Client(raise_request_exception=False)
    user = world.users[caller]
    if user is not None:
        client.force_login(user)
    return client


def read(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if content[:2] == b"PK":  # an XLSX: the text of its cells
        return xlsx_text(content)
    text = content.decode("utf-8", errors="replace")
    if "json" in response.get("Content-Type", ""):
        try:  # \u escapes (JsonResponse) back to the characters they stand for
            return json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            return text
    return text


def xlsx_text(content: bytes) -> str:
    import io

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(content), read_only=True)
    return "\n".join(
        "\t".join("" if value is None else str(value) for value in row)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
    )


def walk(world: World, caller: str) -> dict[str, Answer]:
    """Every cell of the caller's row, in order, each with a client of its own (no
    messages or language carried from one request to the next)."""
    return {
        cell: ask(client_for(world, caller), key, url)
        for cell, (key, url) in all_cells(world).items()
    }


def ask(client: Client, key: str, url: str) -> Answer:
    response = client.post(url, {}) if key in POST_ONLY else client.get(url)
    return Answer(response.status_code, read(response), response.get("Location", ""))
