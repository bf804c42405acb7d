"""The staff web site: a Django 5.2 project on top of the core (protocols, TrialData, stats).

It stores what people enter and builds a TrialData from the database when an
analysis or export is asked for. Settings come from ``LDNTRIAL_*`` variables
and ``DATABASE_URL`` (:mod:`ldntrial.web.config`).
"""
