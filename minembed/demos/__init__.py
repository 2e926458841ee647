"""Runnable demonstrations; `python -m minembed` runs pipeline.run()."""
