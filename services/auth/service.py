"""RPC entrypoints of the auth service; the work is in directory.py, tokens.py, throttle.py.

Callers: the gateway (authenticate and authorize on every request, and the management API,
which it authorises with `authorize` before calling), other services (read-only lookups) and
scripts. Every argument is validated with schemas.py; every state change records its event in
the same transaction, and the outbox relay publishes it on `scs.events`.
"""

from __future__ import annotations

import logging
from typing import Any, NoReturn

from nameko.timer import timer
from sqlalchemy import text

from services.auth import directory, passwords, throttle, tokens
from services.auth import permissions as matrix
from services.auth import schemas as s
from services.auth.exceptions import InvalidCredentials, PermissionDenied, UserDisabled
from services.auth.models import OutboxEvent, User, utcnow
from shared.config import Settings
from shared.context import RequestContext
from shared.db import DatabaseProvider
from shared.outbox import OutboxRelay
from shared.rpc import rpc
from shared.schemas import load, page

logger = logging.getLogger(__name__)

PRUNE_INTERVAL_SECONDS = 60


class AuthService:
    name = "auth"

    db = DatabaseProvider("auth")
    context = RequestContext()
    relay = OutboxRelay("auth", OutboxEvent)
    login_policy = throttle.LoginPolicy()

    @rpc
    def health(self) -> dict[str, Any]:
        """{"status": "ok", "service": "auth"} once the database answers; raises otherwise."""
        with self.db.transaction() as session:
            session.execute(text("SELECT 1"))
        return {"status": "ok", "service": self.name}

    # -- tokens ----------------------------------------------------------------------------

    @rpc
    def login(
        self,
        username: str,
        password: str,
        ttl_seconds: int | None = None,
        name: str = "login",
        source: str | None = None,
    ) -> dict[str, Any]:
        """{"token": "scs_…", "token_id": "…", "expires_at": "2026-…+00:00"}.

        `source` is the client's address (for the audit of failures). Raises
        InvalidCredentials (unknown user and wrong password alike), TooManyAttempts (the name
        is locked after too many failures; no password is checked), UserDisabled,
        ValidationFailed.
        """
        args = load(
            s.LoginSchema(),
            {
                "username": username,
                "password": password,
                "ttl_seconds": ttl_seconds,
                "name": name,
                "source": source,
            },
            location="arguments",
        )
        with self.db.transaction() as session:
            attempt = throttle.begin_attempt(
                session, args["username"], self.login_policy, utcnow()
            )
            user = directory.find_user(session, args["username"])
            found = (user.id, user.password_hash) if user is not None else None

        # Outside the transaction: argon2 is slow and must not hold the database.
        if found is None:
            passwords.burn_verification(args["password"])
            self._refuse_login(attempt, None, args)
        user_id, password_hash = found
        if not passwords.verify_password(password_hash, args["password"]):
            self._refuse_login(attempt, user_id, args)
        rehashed = (
            passwords.hash_password(args["password"])
            if passwords.needs_rehash(password_hash)
            else None
        )

        ttl = args["ttl_seconds"] or Settings.from_env().token_ttl_seconds
        with self.db.transaction() as session:
            user = directory.get_user(session, user_id)
            if user.disabled_at is not None:
                raise UserDisabled("the user is disabled", {"user_id": user.id})
            if rehashed is not None:
                user.password_hash = rehashed
            throttle.forget(session, attempt.key)
            answer = self._issue(session, user, args["name"], ttl, actor=user.id)
        logger.info("login user_id=%s token_id=%s", user_id, answer["token_id"])
        return answer

    def _refuse_login(
        self, attempt: throttle.Attempt, user_id: str | None, args: dict[str, Any]
    ) -> NoReturn:
        with self.db.transaction() as session:
            throttle.record_failure(
                session,
                attempt,
                self.login_policy,
                user_id=user_id,
                username=args["username"],
                source=args["source"],
            )
        logger.warning("login refused: invalid credentials")
        raise InvalidCredentials("invalid username or password")

    @timer(interval=PRUNE_INTERVAL_SECONDS)
    def prune_login_attempts(self) -> None:
        """Forget names with no failed login for a window plus the longest lock."""
        with self.db.transaction() as session:
            removed = throttle.prune(session, self.login_policy, utcnow())
        if removed:
            logger.info("login throttle: %d quiet names forgotten", removed)

    @rpc
    def create_api_token(self, user_id: str, name: str, ttl_seconds: int) -> dict[str, Any]:
        """A token for scripts; same answer as `login`. Raises UserNotFound, UserDisabled."""
        args = load(
            s.CreateApiTokenSchema(),
            {"user_id": user_id, "name": name, "ttl_seconds": ttl_seconds},
            location="arguments",
        )
        with self.db.transaction() as session:
            user = directory.get_user(session, args["user_id"])
            if user.disabled_at is not None:
                raise UserDisabled("the user is disabled", {"user_id": user.id})
            answer = self._issue(
                session, user, args["name"], args["ttl_seconds"], actor=self.context.actor
            )
        logger.info("api token created user_id=%s token_id=%s", user_id, answer["token_id"])
        return answer

    @rpc
    def authenticate(self, token: str) -> dict[str, Any]:
        """{"user_id", "username", "is_cloud_admin", "token_id"} of a valid bearer token.

        Raises InvalidToken, TokenExpired, TokenRevoked, UserDisabled (all Unauthenticated).
        """
        args = load(s.AuthenticateSchema(), {"token": token}, location="arguments")
        with self.db.transaction() as session:
            row, user = tokens.resolve_token(session, args["token"])
            return {
                "user_id": user.id,
                "username": user.username,
                "is_cloud_admin": user.is_cloud_admin,
                "token_id": row.id,
            }

    @rpc
    def revoke_token(self, principal_user_id: str, token_id: str) -> dict[str, Any]:
        """{"token_id", "revoked_at"}; own tokens, or any token for a cloud admin.

        Revoking twice answers the first revocation time. Raises TokenNotFound,
        PermissionDenied.
        """
        args = load(
            s.RevokeTokenSchema(),
            {"principal_user_id": principal_user_id, "token_id": token_id},
            location="arguments",
        )
        with self.db.transaction() as session:
            principal = directory.get_user(session, args["principal_user_id"])
            row = tokens.get_token(session, args["token_id"])
            if row.user_id != principal.id and not _is_active_cloud_admin(principal):
                raise PermissionDenied(
                    "only the owner or a cloud admin may revoke a token",
                    {"area": "tenancy", "action": "manage_users", "project_id": None},
                )
            if tokens.revoke(row):
                directory.emit(
                    session,
                    "token.revoked",
                    actor=principal.id,
                    resource={"kind": "ApiToken", "name": row.name, "uid": row.id},
                    data={"token_id": row.id, "user_id": row.user_id},
                )
                logger.info("token revoked token_id=%s by user_id=%s", row.id, principal.id)
            assert row.revoked_at is not None
            return {"token_id": row.id, "revoked_at": row.revoked_at.isoformat()}

    def _issue(
        self, session: Any, user: User, name: str, ttl_seconds: int, actor: str
    ) -> dict[str, Any]:
        issued = tokens.issue_token(session, user, name, ttl_seconds)
        directory.emit(
            session,
            "token.created",
            actor=actor,
            resource={"kind": "ApiToken", "name": name, "uid": issued.row.id},
            data={
                "token_id": issued.row.id,
                "user_id": user.id,
                "name": name,
                "expires_at": issued.row.expires_at.isoformat(),
            },
        )
        return {
            "token": issued.token,
            "token_id": issued.row.id,
            "expires_at": issued.row.expires_at.isoformat(),
        }

    # -- authorisation ---------------------------------------------------------------------

    @rpc
    def authorize(
        self,
        user_id: str,
        area: str,
        action: str,
        project_id: str | None = None,
        department_id: str | None = None,
    ) -> dict[str, Any]:
        """{"allowed": true, "role": "project_admin"} or PermissionDenied.

        project_id None and department_id None: a cluster-wide action (cloud admin only).
        department_id alone: a department action (tenancy.create_project). Raises
        ValidationFailed for an unknown area or action.
        """
        args = load(
            s.AuthorizeSchema(),
            {
                "user_id": user_id,
                "area": area,
                "action": action,
                "project_id": project_id,
                "department_id": department_id,
            },
            location="arguments",
        )
        matrix.rule(args["area"], args["action"])

        with self.db.transaction() as session:
            user = session.get(User, args["user_id"])
            role = None
            if user is not None and user.disabled_at is None:
                scope, roles = directory.roles_in_scope(
                    session, user, args["project_id"], args["department_id"]
                )
                role = matrix.granting_role(roles, args["area"], args["action"], scope)

        if role is None:
            logger.warning(
                "denied user_id=%s %s.%s project_id=%s department_id=%s",
                args["user_id"],
                args["area"],
                args["action"],
                args["project_id"],
                args["department_id"],
            )
            raise PermissionDenied(
                f"{args['action']} on {args['area']} is not permitted",
                {"area": args["area"], "action": args["action"], "project_id": args["project_id"]},
            )
        return {"allowed": True, "role": role}

    @rpc
    def permissions(self, user_id: str, project_id: str | None = None) -> dict[str, Any]:
        """What the user may do in a project (or cluster-wide with project_id None).

        {"project_id": "…", "roles": ["project_admin"],
         "allowed": {"workloads": ["view", …], "nodes": [], …}} — every area is listed.
        """
        args = load(
            s.PermissionsSchema(),
            {"user_id": user_id, "project_id": project_id},
            location="arguments",
        )
        with self.db.transaction() as session:
            user = directory.get_user(session, args["user_id"])
            scope, roles = matrix.CLUSTER, frozenset[str]()
            if user.disabled_at is None:
                scope, roles = directory.roles_in_scope(session, user, args["project_id"], None)
        return {
            "project_id": args["project_id"],
            "roles": matrix.sort_roles(roles),
            "allowed": matrix.allowed_actions(roles, scope),
        }

    # -- users -----------------------------------------------------------------------------

    @rpc
    def create_user(
        self,
        actor_user_id: str,
        username: str,
        password: str,
        email: str | None = None,
        is_cloud_admin: bool = False,
    ) -> dict[str, Any]:
        """The new user (see get_user). Raises UserExists, ValidationFailed (weak password)."""
        args = load(
            s.CreateUserSchema(),
            {
                "actor_user_id": actor_user_id,
                "username": username,
                "password": password,
                "email": email,
                "is_cloud_admin": is_cloud_admin,
            },
            location="arguments",
        )
        password_hash = passwords.hash_password(args.pop("password"))
        with self.db.transaction() as session:
            user = directory.create_user(
                session,
                actor=args["actor_user_id"],
                username=args["username"],
                password_hash=password_hash,
                email=args["email"],
                is_cloud_admin=args["is_cloud_admin"],
            )
            return directory.user_dict(user)

    @rpc
    def get_user(self, user_id: str) -> dict[str, Any]:
        """{"id", "username", "email", "is_cloud_admin", "disabled", "created_at",
        "disabled_at"}. Raises UserNotFound."""
        args = load(s.UserIdSchema(), {"user_id": user_id}, location="arguments")
        with self.db.transaction() as session:
            return directory.user_dict(directory.get_user(session, args["user_id"]))

    @rpc
    def list_users(self, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        """{"items": [user, …], "total", "limit", "offset"}."""
        args = load(s.PageSchema(), {"limit": limit, "offset": offset}, location="arguments")
        with self.db.transaction() as session:
            users, total = directory.list_users(session, args["limit"], args["offset"])
            items = [directory.user_dict(user) for user in users]
        return page(items, total, args["limit"], args["offset"])

    @rpc
    def disable_user(self, user_id: str) -> dict[str, Any]:
        """The disabled user; idempotent. Raises UserNotFound, LastCloudAdmin."""
        args = load(s.UserIdSchema(), {"user_id": user_id}, location="arguments")
        with self.db.transaction() as session:
            user = directory.disable_user(
                session, actor=self.context.actor, user_id=args["user_id"]
            )
            return directory.user_dict(user)

    # -- departments -----------------------------------------------------------------------

    @rpc
    def create_department(self, name: str, description: str = "") -> dict[str, Any]:
        """{"id", "name", "description", "created_at"}. Raises DepartmentExists."""
        args = load(
            s.CreateDepartmentSchema(),
            {"name": name, "description": description},
            location="arguments",
        )
        with self.db.transaction() as session:
            department = directory.create_department(session, actor=self.context.actor, **args)
            return directory.department_dict(department)

    @rpc
    def list_departments(self, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        args = load(s.PageSchema(), {"limit": limit, "offset": offset}, location="arguments")
        with self.db.transaction() as session:
            rows, total = directory.list_departments(session, args["limit"], args["offset"])
            items = [directory.department_dict(row) for row in rows]
        return page(items, total, args["limit"], args["offset"])

    @rpc
    def add_department_admin(self, department_id: str, user_id: str) -> dict[str, Any]:
        """{"department_id", "user_id", "created_at"}; idempotent."""
        args = load(
            s.DepartmentAdminSchema(),
            {"department_id": department_id, "user_id": user_id},
            location="arguments",
        )
        with self.db.transaction() as session:
            row = directory.add_department_admin(session, actor=self.context.actor, **args)
            return directory.department_admin_dict(row)

    @rpc
    def remove_department_admin(self, department_id: str, user_id: str) -> dict[str, Any]:
        """{"department_id", "user_id"}. Raises DepartmentAdminNotFound."""
        args = load(
            s.DepartmentAdminSchema(),
            {"department_id": department_id, "user_id": user_id},
            location="arguments",
        )
        with self.db.transaction() as session:
            directory.remove_department_admin(session, actor=self.context.actor, **args)
        return args

    # -- projects --------------------------------------------------------------------------

    @rpc
    def create_project(
        self, name: str, department_id: str, description: str = ""
    ) -> dict[str, Any]:
        """{"id", "name", "department_id", "description", "created_at"}.

        Raises ValidationFailed (name not a DNS-1123 label), DepartmentNotFound,
        ProjectExists.
        """
        args = load(
            s.CreateProjectSchema(),
            {"name": name, "department_id": department_id, "description": description},
            location="arguments",
        )
        with self.db.transaction() as session:
            project = directory.create_project(session, actor=self.context.actor, **args)
            return directory.project_dict(project)

    @rpc
    def get_project(self, project_id: str) -> dict[str, Any]:
        args = load(s.ProjectIdSchema(), {"project_id": project_id}, location="arguments")
        with self.db.transaction() as session:
            return directory.project_dict(directory.get_project(session, args["project_id"]))

    @rpc
    def list_projects(self, user_id: str, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        """Projects the user holds a role in (all of them for a cloud admin), as a page."""
        args = load(
            s.ListProjectsSchema(),
            {"user_id": user_id, "limit": limit, "offset": offset},
            location="arguments",
        )
        with self.db.transaction() as session:
            user = directory.get_user(session, args["user_id"])
            rows, total = directory.list_projects(session, user, args["limit"], args["offset"])
            items = [directory.project_dict(row) for row in rows]
        return page(items, total, args["limit"], args["offset"])

    @rpc
    def delete_project(self, project_id: str) -> dict[str, Any]:
        """The deleted project; its memberships go with it. Raises ProjectNotFound."""
        args = load(s.ProjectIdSchema(), {"project_id": project_id}, location="arguments")
        with self.db.transaction() as session:
            project = directory.delete_project(session, actor=self.context.actor, **args)
            return directory.project_dict(project)

    # -- members ---------------------------------------------------------------------------

    @rpc
    def add_member(self, project_id: str, user_id: str, role: str) -> dict[str, Any]:
        """{"project_id", "user_id", "username", "role", "created_at"}.

        role is "project_admin" or "user"; a member's role is changed in place.
        """
        args = load(
            s.AddMemberSchema(),
            {"project_id": project_id, "user_id": user_id, "role": role},
            location="arguments",
        )
        with self.db.transaction() as session:
            member = directory.add_member(session, actor=self.context.actor, **args)
            user = directory.get_user(session, member.user_id)
            return directory.member_dict(member, user)

    @rpc
    def remove_member(self, project_id: str, user_id: str) -> dict[str, Any]:
        """{"project_id", "user_id"}. Raises MemberNotFound."""
        args = load(
            s.RemoveMemberSchema(),
            {"project_id": project_id, "user_id": user_id},
            location="arguments",
        )
        with self.db.transaction() as session:
            directory.remove_member(session, actor=self.context.actor, **args)
        return args

    @rpc
    def list_members(self, project_id: str, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        args = load(
            s.ListMembersSchema(),
            {"project_id": project_id, "limit": limit, "offset": offset},
            location="arguments",
        )
        with self.db.transaction() as session:
            rows, total = directory.list_members(
                session, args["project_id"], args["limit"], args["offset"]
            )
            items = [directory.member_dict(member, user) for member, user in rows]
        return page(items, total, args["limit"], args["offset"])


def _is_active_cloud_admin(user: User) -> bool:
    return user.is_cloud_admin and user.disabled_at is None
