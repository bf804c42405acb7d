"""Protocols: the study design files, and what follows from them."""
