"""WSGI entry point (gunicorn hub.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
django_application = get_wsgi_application()

from streaming.front import PushFront  # noqa: E402  (needs the configured settings)

# Pushes with an API key take the push front (group commit); everything else is Django.
application = PushFront(django_application)
application.warm_up()
