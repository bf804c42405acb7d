"""The version of ldntrial, in a module of its own.

Bundles, exports and reports stamp it; keeping it here lets them do so without
importing the package's front door (and through it the whole core).
"""

__version__ = "0.1.0"
