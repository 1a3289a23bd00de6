"""The hub app has no models of its own: the catalog is ``hub.catalog``, records are
``hub.records``. This package stays for the names the hub's landed migrations import."""
