"""Pages of the operations view (mounted under /ops/)."""

urlpatterns: list = []
