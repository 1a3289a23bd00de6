"""Demo data of the connectors: the department connectors' declarations as version-1
connector profiles (``load_demo`` runs ``load``)."""

from __future__ import annotations

from connectors.profiles.versions import seed_profiles


def load(stdout) -> None:
    created = seed_profiles()
    stdout.write(f"connector profiles: {len(created)} seeded")
