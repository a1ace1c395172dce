"""The quota service: per-project limits and the reservation ledger (see README.md)."""
