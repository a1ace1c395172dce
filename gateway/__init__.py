"""The HTTP gateway: owns nothing but HTTP.

It authenticates the bearer token (auth RPC), authorises the action against the permission
matrix (auth RPC), validates input with marshmallow, calls the owning service over RPC and maps
errors to HTTP status with a JSON body `{code, message, details}`.
"""
