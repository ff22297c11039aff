"""Runnable checks of the whole server (``python -m scripts.crash_test``, ``scripts/fuzz.py``)."""
