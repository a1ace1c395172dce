"""`scs`, the command-line client: talks to the gateway over HTTP only, as a person would.

It imports nothing of `services/` or `gateway/` (import-linter contract in pyproject.toml):
payload shapes come from the gateway's public routes, documented in cli/README.md.
"""
