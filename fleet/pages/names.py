"""Names for a page: each branch code and username on it looked up once, so templates write
`named(names.branch(code), code)` and `named(names.person(username), username)` (the macro
in `macros.html`: the name, then the code small and grey)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session

from fleet.auth import service as auth
from fleet.inventory import service as inventory


class Names:
    """Branch and staff names, looked up as the page asks and kept for the page's life."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._branches: dict[str, str | None] = {}
        self._people: dict[str, str | None] = {}

    def know(
        self, *, branches: Iterable[str | None] = (), people: Iterable[str | None] = ()
    ) -> Names:
        """Looks up many at once (one query each) before a list is drawn."""
        wanted = {c for c in branches if c and c not in self._branches}
        if wanted:
            found = inventory.branch_names(self._session, wanted)
            self._branches |= {c: found.get(c) for c in wanted}
        wanted = {u for u in people if u and u not in self._people}
        if wanted:
            found = auth.full_names(self._session, wanted)
            self._people |= {u: found.get(u) for u in wanted}
        return self

    def branch(self, code: str | None) -> str | None:
        """The branch's name (None when unknown)."""
        if not code:
            return None
        if code not in self._branches:
            self.know(branches=[code])
        return self._branches[code]

    def person(self, username: str | None) -> str | None:
        """The user's full name (None when unknown or not set)."""
        if not username:
            return None
        if username not in self._people:
            self.know(people=[username])
        found = self._people[username]
        if found is None and ":" in username:
            # A user acting through a service ("field:<username>"): that user's name.
            return self.person(username.rsplit(":", 1)[1])
        return found
