"""Users, departments, projects and memberships: the tenancy directory.

Every function works in the caller's session (one transaction per RPC call, opened by the
service) and records its event in the same session, so a change and its event commit together.
Passwords arrive here already hashed; nothing in this module sees a plain password or token.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.auth import permissions
from services.auth.exceptions import (
    DepartmentAdminNotFound,
    DepartmentExists,
    DepartmentNotFound,
    LastCloudAdmin,
    MemberNotFound,
    ProjectExists,
    ProjectNotFound,
    UserExists,
    UserNotFound,
)
from services.auth.models import (
    Department,
    DepartmentAdmin,
    OutboxEvent,
    Project,
    ProjectMember,
    User,
    utcnow,
)
from shared.events import new_event, record_event

logger = logging.getLogger(__name__)


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def emit(
    session: Session,
    event_type: str,
    *,
    actor: str,
    resource: dict[str, Any],
    project: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Record an event in the outbox, in the caller's transaction."""
    envelope = new_event(event_type, actor=actor, resource=resource, project=project, data=data)
    record_event(session, OutboxEvent, envelope)


# -- users -----------------------------------------------------------------------------------


def user_dict(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "is_cloud_admin": user.is_cloud_admin,
        "disabled": user.disabled_at is not None,
        "created_at": iso(user.created_at),
        "disabled_at": iso(user.disabled_at),
    }


def _user_ref(user: User) -> dict[str, Any]:
    return {"kind": "User", "name": user.username, "uid": user.id}


def get_user(session: Session, user_id: str) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise UserNotFound("no such user", {"user_id": user_id})
    return user


def find_user(session: Session, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == username)).first()


def create_user(
    session: Session,
    *,
    actor: str,
    username: str,
    password_hash: str,
    email: str | None = None,
    is_cloud_admin: bool = False,
) -> User:
    if find_user(session, username) is not None:
        raise UserExists("the username is taken", {"username": username})

    user = User(
        username=username,
        email=email,
        password_hash=password_hash,
        is_cloud_admin=is_cloud_admin,
        created_at=utcnow(),
    )
    session.add(user)
    _flush_unique(session, UserExists("the username is taken", {"username": username}))

    emit(
        session,
        "user.created",
        actor=actor,
        resource=_user_ref(user),
        data={"user_id": user.id, "username": username, "is_cloud_admin": is_cloud_admin},
    )
    logger.info("user created user_id=%s cloud_admin=%s", user.id, is_cloud_admin)
    return user


def list_users(session: Session, limit: int, offset: int) -> tuple[list[User], int]:
    total = session.scalar(select(func.count()).select_from(User)) or 0
    users = session.scalars(
        select(User).order_by(User.created_at, User.id).limit(limit).offset(offset)
    ).all()
    return list(users), total


def disable_user(session: Session, *, actor: str, user_id: str) -> User:
    """Disable a user (idempotent); their tokens stop authenticating at once."""
    user = get_user(session, user_id)
    if user.disabled_at is not None:
        return user

    if user.is_cloud_admin and _active_cloud_admins(session) <= 1:
        raise LastCloudAdmin(
            "the last active cloud admin cannot be disabled", {"user_id": user_id}
        )

    user.disabled_at = utcnow()
    emit(
        session,
        "user.disabled",
        actor=actor,
        resource=_user_ref(user),
        data={"user_id": user.id, "username": user.username},
    )
    logger.info("user disabled user_id=%s", user.id)
    return user


def _active_cloud_admins(session: Session) -> int:
    query = select(func.count()).where(User.is_cloud_admin.is_(True), User.disabled_at.is_(None))
    return session.scalar(query) or 0


# -- departments -----------------------------------------------------------------------------


def department_dict(department: Department) -> dict[str, Any]:
    return {
        "id": department.id,
        "name": department.name,
        "description": department.description,
        "created_at": iso(department.created_at),
    }


def _department_ref(department: Department) -> dict[str, Any]:
    return {"kind": "Department", "name": department.name, "uid": department.id}


def get_department(session: Session, department_id: str) -> Department:
    department = session.get(Department, department_id)
    if department is None:
        raise DepartmentNotFound("no such department", {"department_id": department_id})
    return department


def create_department(session: Session, *, actor: str, name: str, description: str) -> Department:
    exists = DepartmentExists("a department of that name exists", {"name": name})
    if session.scalars(select(Department).where(Department.name == name)).first() is not None:
        raise exists

    department = Department(name=name, description=description, created_at=utcnow())
    session.add(department)
    _flush_unique(session, exists)

    emit(
        session,
        "department.created",
        actor=actor,
        resource=_department_ref(department),
        data={"department_id": department.id, "name": name},
    )
    logger.info("department created department_id=%s", department.id)
    return department


def list_departments(session: Session, limit: int, offset: int) -> tuple[list[Department], int]:
    total = session.scalar(select(func.count()).select_from(Department)) or 0
    rows = session.scalars(
        select(Department).order_by(Department.name).limit(limit).offset(offset)
    ).all()
    return list(rows), total


def add_department_admin(
    session: Session, *, actor: str, department_id: str, user_id: str
) -> DepartmentAdmin:
    """Make a user admin of a department (idempotent: no second event)."""
    department = get_department(session, department_id)
    user = get_user(session, user_id)
    existing = session.get(DepartmentAdmin, (department_id, user_id))
    if existing is not None:
        return existing

    row = DepartmentAdmin(department_id=department_id, user_id=user_id, created_at=utcnow())
    session.add(row)
    emit(
        session,
        "department.admin_added",
        actor=actor,
        resource=_department_ref(department),
        data={"department_id": department_id, "user_id": user.id, "username": user.username},
    )
    logger.info("department admin added department_id=%s user_id=%s", department_id, user_id)
    return row


def remove_department_admin(
    session: Session, *, actor: str, department_id: str, user_id: str
) -> None:
    department = get_department(session, department_id)
    row = session.get(DepartmentAdmin, (department_id, user_id))
    if row is None:
        raise DepartmentAdminNotFound(
            "the user is not an admin of the department",
            {"department_id": department_id, "user_id": user_id},
        )

    session.delete(row)
    emit(
        session,
        "department.admin_removed",
        actor=actor,
        resource=_department_ref(department),
        data={"department_id": department_id, "user_id": user_id},
    )
    logger.info("department admin removed department_id=%s user_id=%s", department_id, user_id)


def department_admin_dict(row: DepartmentAdmin) -> dict[str, Any]:
    return {
        "department_id": row.department_id,
        "user_id": row.user_id,
        "created_at": iso(row.created_at),
    }


# -- projects --------------------------------------------------------------------------------


def project_dict(project: Project) -> dict[str, Any]:
    return {
        "id": project.id,
        "name": project.name,
        "department_id": project.department_id,
        "description": project.description,
        "created_at": iso(project.created_at),
    }


def _project_ref(project: Project) -> dict[str, Any]:
    return {"kind": "Project", "name": project.name, "uid": project.id}


def get_project(session: Session, project_id: str) -> Project:
    project = session.get(Project, project_id)
    if project is None:
        raise ProjectNotFound("no such project", {"project_id": project_id})
    return project


def create_project(
    session: Session, *, actor: str, name: str, department_id: str, description: str
) -> Project:
    get_department(session, department_id)
    exists = ProjectExists("a project of that name exists", {"name": name})
    if session.scalars(select(Project).where(Project.name == name)).first() is not None:
        raise exists

    project = Project(
        name=name, department_id=department_id, description=description, created_at=utcnow()
    )
    session.add(project)
    _flush_unique(session, exists)

    emit(
        session,
        "project.created",
        actor=actor,
        resource=_project_ref(project),
        project=project.id,
        data={"project_id": project.id, "name": name, "department_id": department_id},
    )
    logger.info("project created project_id=%s department_id=%s", project.id, department_id)
    return project


def list_projects(
    session: Session, user: User, limit: int, offset: int
) -> tuple[list[Project], int]:
    """Cloud admin: every project; others: projects where they hold a role."""
    query = select(Project)
    if not user.is_cloud_admin:
        member_of = select(ProjectMember.project_id).where(ProjectMember.user_id == user.id)
        admin_of = select(DepartmentAdmin.department_id).where(DepartmentAdmin.user_id == user.id)
        query = query.where(or_(Project.id.in_(member_of), Project.department_id.in_(admin_of)))

    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Project.name).limit(limit).offset(offset)).all()
    return list(rows), total


def delete_project(session: Session, *, actor: str, project_id: str) -> Project:
    project = get_project(session, project_id)
    removed = session.execute(
        delete(ProjectMember).where(ProjectMember.project_id == project_id)
    ).rowcount  # type: ignore[attr-defined]
    session.delete(project)

    emit(
        session,
        "project.deleted",
        actor=actor,
        resource=_project_ref(project),
        project=project.id,
        data={
            "project_id": project.id,
            "name": project.name,
            "department_id": project.department_id,
            "members_removed": removed,
        },
    )
    logger.info("project deleted project_id=%s", project.id)
    return project


# -- memberships -----------------------------------------------------------------------------


def member_dict(member: ProjectMember, user: User) -> dict[str, Any]:
    return {
        "project_id": member.project_id,
        "user_id": member.user_id,
        "username": user.username,
        "role": member.role,
        "created_at": iso(member.created_at),
    }


def add_member(
    session: Session, *, actor: str, project_id: str, user_id: str, role: str
) -> ProjectMember:
    """Give a user a role in a project; a member's role is changed in place.

    Adding the same role again changes nothing and records no event.
    """
    project = get_project(session, project_id)
    user = get_user(session, user_id)
    member = session.get(ProjectMember, (project_id, user_id))
    if member is not None and member.role == role:
        return member

    event_type = "member.added"
    data: dict[str, Any] = {"project_id": project_id, "user_id": user_id, "role": role}
    if member is None:
        member = ProjectMember(
            project_id=project_id, user_id=user_id, role=role, created_at=utcnow()
        )
        session.add(member)
    else:
        event_type = "member.role_changed"
        data["previous_role"] = member.role
        member.role = role

    emit(
        session,
        event_type,
        actor=actor,
        resource={"kind": "ProjectMember", "name": user.username, "uid": user.id},
        project=project.id,
        data=data,
    )
    logger.info("%s project_id=%s user_id=%s role=%s", event_type, project_id, user_id, role)
    return member


def remove_member(session: Session, *, actor: str, project_id: str, user_id: str) -> None:
    project = get_project(session, project_id)
    member = session.get(ProjectMember, (project_id, user_id))
    if member is None:
        raise MemberNotFound(
            "the user is not a member of the project",
            {"project_id": project_id, "user_id": user_id},
        )

    user = session.get(User, user_id)
    session.delete(member)
    emit(
        session,
        "member.removed",
        actor=actor,
        resource={
            "kind": "ProjectMember",
            "name": user.username if user is not None else user_id,
            "uid": user_id,
        },
        project=project.id,
        data={"project_id": project_id, "user_id": user_id, "role": member.role},
    )
    logger.info("member removed project_id=%s user_id=%s", project_id, user_id)


def list_members(
    session: Session, project_id: str, limit: int, offset: int
) -> tuple[list[tuple[ProjectMember, User]], int]:
    get_project(session, project_id)
    where = ProjectMember.project_id == project_id
    total = session.scalar(select(func.count()).select_from(ProjectMember).where(where)) or 0
    rows = session.execute(
        select(ProjectMember, User)
        .join(User, User.id == ProjectMember.user_id)
        .where(where)
        .order_by(User.username)
        .limit(limit)
        .offset(offset)
    ).all()
    return [(member, user) for member, user in rows], total


# -- roles -----------------------------------------------------------------------------------


def is_department_admin(session: Session, user_id: str, department_id: str) -> bool:
    return session.get(DepartmentAdmin, (department_id, user_id)) is not None


def roles_in_scope(
    session: Session, user: User, project_id: str | None, department_id: str | None
) -> tuple[str, frozenset[str]]:
    """The kind of scope named and the roles `user` holds there.

    A project that does not exist gives no role but the cloud admin's, so a refusal does not
    reveal whether it exists. With a project, `department_id` is ignored: the project's own
    department decides who its department admins are.
    """
    scope = permissions.scope_of(project_id, department_id)
    roles: set[str] = set()
    if user.is_cloud_admin:
        roles.add(permissions.CLOUD_ADMIN)

    if scope == permissions.PROJECT:
        assert project_id is not None
        project = session.get(Project, project_id)
        if project is not None:
            if is_department_admin(session, user.id, project.department_id):
                roles.add(permissions.DEPARTMENT_ADMIN)
            member = session.get(ProjectMember, (project_id, user.id))
            if member is not None:
                roles.add(member.role)
    elif scope == permissions.DEPARTMENT:
        assert department_id is not None
        if is_department_admin(session, user.id, department_id):
            roles.add(permissions.DEPARTMENT_ADMIN)
    return scope, frozenset(roles)


def _flush_unique(session: Session, error: Exception) -> None:
    """Flush; a unique constraint that a concurrent call won becomes `error`."""
    try:
        session.flush()
    except IntegrityError as exc:
        raise error from exc
