"""Starts the suite's services in one process (the embedded default) or one per process."""
