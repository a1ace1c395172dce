"""Authentication, users, departments, projects and members (auth service)."""

from __future__ import annotations

from typing import Any

from gateway import schemas
from gateway.api import ApiCall, route
from shared.schemas import PageQuerySchema

V1 = "/api/v1"


class TenancyRoutes:
    auth: Any  # RpcProxy declared on GatewayService

    # -- authentication -------------------------------------------------------------------

    @route(
        "POST",
        f"{V1}/auth/login",
        summary="Exchange a password for a token",
        tag="auth",
        body=schemas.LoginSchema(),
        response=schemas.TokenSchema(),
        public=True,
        status=201,
    )
    def login(self, call: ApiCall) -> Any:
        return self.auth.login(
            call.body["username"],
            call.body["password"],
            call.body.get("ttl_seconds"),
            source=call.request.remote_addr,
        )

    @route("GET", f"{V1}/auth/whoami", summary="The caller's identity", tag="auth")
    def whoami(self, call: ApiCall) -> Any:
        return call.principal

    @route(
        "POST",
        f"{V1}/auth/tokens",
        summary="Create an API token for scripts",
        tag="auth",
        body=schemas.ApiTokenSchema(),
        response=schemas.TokenSchema(),
        status=201,
    )
    def create_api_token(self, call: ApiCall) -> Any:
        return self.auth.create_api_token(
            call.user_id, call.body["name"], call.body["ttl_seconds"]
        )

    @route("DELETE", f"{V1}/auth/tokens/<token_id>", summary="Revoke a token", tag="auth")
    def revoke_token(self, call: ApiCall) -> Any:
        return self.auth.revoke_token(call.user_id, call.path["token_id"])

    # -- users and departments (cloud admin) ----------------------------------------------

    @route(
        "GET",
        f"{V1}/users",
        summary="List users",
        tag="tenancy",
        area="tenancy",
        action="manage_users",
        query=PageQuerySchema(),
    )
    def list_users(self, call: ApiCall) -> Any:
        return self.auth.list_users(call.query["limit"], call.query["offset"])

    @route(
        "POST",
        f"{V1}/users",
        summary="Create a user",
        tag="tenancy",
        area="tenancy",
        action="manage_users",
        body=schemas.CreateUserSchema(),
        status=201,
    )
    def create_user(self, call: ApiCall) -> Any:
        return self.auth.create_user(call.user_id, **call.body)

    @route(
        "GET",
        f"{V1}/users/<user_id>",
        summary="Show a user",
        tag="tenancy",
        area="tenancy",
        action="manage_users",
    )
    def get_user(self, call: ApiCall) -> Any:
        return self.auth.get_user(call.path["user_id"])

    @route(
        "POST",
        f"{V1}/users/<user_id>/disable",
        summary="Disable a user",
        tag="tenancy",
        area="tenancy",
        action="manage_users",
    )
    def disable_user(self, call: ApiCall) -> Any:
        return self.auth.disable_user(call.path["user_id"])

    @route(
        "GET",
        f"{V1}/departments",
        summary="List departments",
        tag="tenancy",
        area="tenancy",
        action="manage_departments",
        query=PageQuerySchema(),
    )
    def list_departments(self, call: ApiCall) -> Any:
        return self.auth.list_departments(call.query["limit"], call.query["offset"])

    @route(
        "POST",
        f"{V1}/departments",
        summary="Create a department",
        tag="tenancy",
        area="tenancy",
        action="manage_departments",
        body=schemas.CreateDepartmentSchema(),
        status=201,
    )
    def create_department(self, call: ApiCall) -> Any:
        return self.auth.create_department(call.body["name"], call.body["description"])

    @route(
        "POST",
        f"{V1}/departments/<department_id>/admins",
        summary="Add a department admin",
        tag="tenancy",
        area="tenancy",
        action="manage_departments",
        body=schemas.DepartmentAdminSchema(),
        status=201,
    )
    def add_department_admin(self, call: ApiCall) -> Any:
        return self.auth.add_department_admin(call.path["department_id"], call.body["user_id"])

    @route(
        "DELETE",
        f"{V1}/departments/<department_id>/admins/<user_id>",
        summary="Remove a department admin",
        tag="tenancy",
        area="tenancy",
        action="manage_departments",
    )
    def remove_department_admin(self, call: ApiCall) -> Any:
        return self.auth.remove_department_admin(call.path["department_id"], call.path["user_id"])

    # -- projects and members -------------------------------------------------------------

    @route(
        "GET",
        f"{V1}/projects",
        summary="Projects the caller can see",
        tag="tenancy",
        query=PageQuerySchema(),
    )
    def list_projects(self, call: ApiCall) -> Any:
        return self.auth.list_projects(call.user_id, call.query["limit"], call.query["offset"])

    @route(
        "POST",
        f"{V1}/projects",
        summary="Create a project in a department",
        tag="tenancy",
        area="tenancy",
        action="create_project",
        body=schemas.CreateProjectSchema(),
        scope_from_body="department_id",
        status=201,
    )
    def create_project(self, call: ApiCall) -> Any:
        return self.auth.create_project(
            call.body["name"], call.body["department_id"], call.body["description"]
        )

    @route(
        "GET",
        f"{V1}/projects/<project_id>",
        summary="Show a project",
        tag="tenancy",
        area="tenancy",
        action="view_project",
    )
    def get_project(self, call: ApiCall) -> Any:
        return self.auth.get_project(call.path["project_id"])

    @route(
        "GET",
        f"{V1}/projects/<project_id>/members",
        summary="List members",
        tag="tenancy",
        area="tenancy",
        action="view_project",
    )
    def list_members(self, call: ApiCall) -> Any:
        return self.auth.list_members(call.path["project_id"])

    @route(
        "POST",
        f"{V1}/projects/<project_id>/members",
        summary="Add a member",
        tag="tenancy",
        area="tenancy",
        action="manage_members",
        body=schemas.AddMemberSchema(),
        status=201,
    )
    def add_member(self, call: ApiCall) -> Any:
        return self.auth.add_member(
            call.path["project_id"], call.body["user_id"], call.body["role"]
        )

    @route(
        "DELETE",
        f"{V1}/projects/<project_id>/members/<user_id>",
        summary="Remove a member",
        tag="tenancy",
        area="tenancy",
        action="manage_members",
    )
    def remove_member(self, call: ApiCall) -> Any:
        return self.auth.remove_member(call.path["project_id"], call.path["user_id"])

    @route(
        "GET",
        f"{V1}/projects/<project_id>/permissions",
        summary="What the caller may do in this project",
        tag="tenancy",
    )
    def permissions(self, call: ApiCall) -> Any:
        return self.auth.permissions(call.user_id, call.path["project_id"])
