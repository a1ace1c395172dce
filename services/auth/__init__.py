"""The auth service: identities, tenancy and the permission matrix of the suite.

It owns users, departments, projects, memberships and API tokens (stored hashed), answers the
gateway's `authenticate` and `authorize` calls, and emits user.*, department.*, project.*,
member.* and token.* events through its outbox. See README.md for the RPC contract.
"""
