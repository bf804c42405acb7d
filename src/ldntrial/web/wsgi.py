"""WSGI entry point for gunicorn: ``gunicorn ldntrial.web.wsgi``.

Each worker imports this module once. Before it answers anyone it imports every
view (Django would do that on the first request) and then freezes what start-up
made: about 290,000 objects that live as long as the worker. Left in the
collector's oldest generation, each full collection walks them all: every half
minute or so under load, a pause of about 150 ms on a slow day of this project's
2-core machine, which a participant sending her diary at that moment waits out.
Frozen, the same collection took 2 ms (timed by a `gc.callbacks` hook in each
worker while `benchmarks/diary_load.py` sent entries).
"""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ldntrial.web.settings")

application = get_wsgi_application()
get_resolver().url_patterns  # noqa: B018 (imports every view now, not on a first request)
gc.collect()  # start-up's garbage is freed, not frozen with the rest
gc.freeze()
