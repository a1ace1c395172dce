"""Endpoints the permission matrix names whose owning service is not built yet.

Each row is one cell of the matrix (area, action) with the HTTP method and path it will have.
The gateway already authenticates and authorises these routes, so every cell of the matrix can
be tested through HTTP today; after authorisation they answer 501 `not_implemented`. A row is
removed from this table when its service lands and declares the real endpoint.
"""

from __future__ import annotations

from typing import Any

from gateway.api import ApiCall, route
from shared.errors import NotImplementedYet

P = "/api/v1/projects/<project_id>"

# (area, action, method, path)
# Empty since the last planned route (workloads.network_settings) landed.
PLANNED_ROUTES: tuple[tuple[str, str, str, str], ...] = ()


class PlannedRoutes:
    """Holds one generated endpoint per row of PLANNED_ROUTES."""


def _planned(area: str, action: str) -> Any:
    def handler(self: Any, call: ApiCall) -> Any:
        raise NotImplementedYet(
            f"{area}.{action} is authorised, but its service is not built yet",
            {"area": area, "action": action},
        )

    handler.__name__ = f"planned_{area}_{action}"
    return handler


for _area, _action, _method, _path in PLANNED_ROUTES:
    setattr(
        PlannedRoutes,
        f"planned_{_area}_{_action}",
        route(
            _method,
            _path,
            summary=f"{_area}: {_action} (planned)",
            tag=_area,
            area=_area,
            action=_action,
        )(_planned(_area, _action)),
    )
