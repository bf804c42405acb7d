"""WSGI entry point for gunicorn: ``gunicorn ldntrial.web.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ldntrial.web.settings")

application = get_wsgi_application()
