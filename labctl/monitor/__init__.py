"""``labctl monitor``: a browser view of the run store, live while runs go on (the ``monitor`` extra)."""
