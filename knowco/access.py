"""Who may do what. Every use case of the service layer names the permission it needs and checks the acting
curator's role itself, so a page that shows a button by mistake (or a script calling the services) cannot do
more than the role allows.
"""
from __future__ import annotations

from dataclasses import dataclass

from knowco.errors import PermissionDenied

ROLES = ("curator", "admin")

#: permission → the roles that have it; curators label and review, admins also import, train and manage
PERMISSIONS: dict[str, frozenset[str]] = {
    "label": frozenset(ROLES),
    "review": frozenset(ROLES),
    "delete_label": frozenset({"admin"}),
    "import": frozenset({"admin"}),
    "export": frozenset({"admin"}),
    "train": frozenset({"admin"}),
    "manage_models": frozenset({"admin"}),
    "maintain": frozenset({"admin"}),
    "repair": frozenset({"admin"}),
    "adjudicate": frozenset({"admin"}),
}

WORDS = {"delete_label": "delete labels", "import": "import data", "export": "export the KG",
         "train": "start or cancel a retrain", "manage_models": "change the active model or suggest",
         "maintain": "back up or restore the database",
         "repair": "merge, rename or delete entities and relations", "label": "label", "review": "review suggestions",
         "adjudicate": "adjudicate disputed suggestions and labels or set the overlaps"}


@dataclass(frozen=True)
class Actor:
    """The person a use case acts for: their name goes into the history, their role decides what they may do."""

    name: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def may(self, permission: str) -> bool:
        return self.role in PERMISSIONS[permission]


def require(actor: Actor, permission: str) -> None:
    if not actor.may(permission):
        raise PermissionDenied(f"a {actor.role} may not {WORDS[permission]}; ask an admin")
