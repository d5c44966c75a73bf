"""The operator's command line: one command per module, loaded lazily by `main.py`."""
