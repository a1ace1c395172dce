"""The suite's common library: mechanisms only, no business rules.

Every service and the gateway build on these modules; nothing here imports a service.
"""
