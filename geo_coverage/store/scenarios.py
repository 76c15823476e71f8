"""Scenarios with history: every save is a new version (author, time, message); saving from a
stale version is refused, naming who saved what in between (optimistic concurrency)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from ..errors import ScenarioError
from ..scenario import Scenario, scenario_from_yaml, scenario_to_dict, scenario_to_yaml
from .core import StoreCore
from .errors import ConflictError, NotFoundError
from .schema import utc_now

__all__ = ["ScenarioVersion", "ScenarioSummary", "ScenarioDiff", "ScenariosMixin"]


@dataclass(frozen=True)
class ScenarioVersion:
    """One saved version of a scenario."""

    name: str
    version: int
    author: str
    created_at: str
    message: str
    content: str
    snapshot: str | None = None
    restored_from: int | None = None

    def scenario(self) -> Scenario:
        """The scenario as it was saved in this version."""
        return scenario_from_yaml(self.content, origin=f"store: {self.name} v{self.version}")

    def describe(self) -> str:
        return f"v{self.version} by {self.author} at {self.created_at}: {self.message}"

    def to_dict(self, *, content: bool = False) -> dict:
        out = {
            "name": self.name,
            "version": self.version,
            "author": self.author,
            "created_at": self.created_at,
            "message": self.message,
            "snapshot": self.snapshot,
            "restored_from": self.restored_from,
        }
        if content:
            out["content"] = self.content
        return out


@dataclass(frozen=True)
class ScenarioSummary:
    """A scenario in the list: its latest version and where it came from."""

    name: str
    latest: int
    updated_by: str
    updated_at: str
    created_by: str
    created_at: str
    forked_from: str | None
    forked_from_version: int | None

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ScenarioDiff:
    """The edits that differ between two versions, and changed name, description, base, plan,
    targets."""

    name: str
    old: int
    new: int
    removed: tuple[Mapping, ...]
    added: tuple[Mapping, ...]
    fields: Mapping[str, tuple]

    def lines(self) -> list[str]:
        out = [f"--- {self.name} v{self.old}", f"+++ {self.name} v{self.new}"]
        for key, (before, after) in self.fields.items():
            out.append(f"~ {key}: {before!r} -> {after!r}")
        out += [f"- {_edit_text(edit)}" for edit in self.removed]
        out += [f"+ {_edit_text(edit)}" for edit in self.added]
        if len(out) == 2:
            out.append("(no differences)")
        return out

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "old": self.old,
            "new": self.new,
            "removed": list(self.removed),
            "added": list(self.added),
            "fields": {k: list(v) for k, v in self.fields.items()},
        }


def _edit_text(edit: Mapping) -> str:
    return ", ".join(f"{key}: {value}" for key, value in edit.items())


def _message(text) -> str:
    text = " ".join(str(text or "").split())
    if not text:
        raise ScenarioError(
            "A save needs a message saying what changed.",
            fix="Add e.g. --message 'two care homes in Tongzhou'.",
        )
    return text


class ScenariosMixin(StoreCore):
    """Scenario verbs of :class:`~geo_coverage.store.Store`."""

    def save_scenario(
        self,
        scenario: Scenario,
        *,
        message: str,
        base_version: int | None = None,
        author: str | None = None,
        snapshot: str | None = None,
        _restored_from: int | None = None,
        _forked_from=None,
    ) -> ScenarioVersion:
        """Save ``scenario`` as the next version of the scenario of its name.

        Parameters
        ----------
        base_version
            The version the edits were made on: ``None`` for a new scenario.  If anyone saved
            after it, nothing is written and :class:`ConflictError` says who saved what.
        snapshot
            The snapshot (year or label) the scenario was made on, for the record.
        """
        from .base import default_author

        author = author or default_author()
        message = _message(message)
        content = scenario_to_yaml(scenario)
        scenario_from_yaml(content)  # what is saved must read back
        t = self.tables
        now = utc_now()
        try:
            with self._write() as connection:
                row = connection.execute(
                    sa.select(t.scenarios).where(t.scenarios.c.name == scenario.name)
                ).first()
                latest = 0 if row is None else self._latest(connection, row.id)
                if latest != (base_version or 0):
                    raise self._conflict(connection, scenario.name, row, base_version, latest)
                if row is None:
                    forked = _forked_from or (None, None)
                    scenario_id = connection.execute(
                        sa.insert(t.scenarios)
                        .values(
                            name=scenario.name,
                            created_by=author,
                            created_at=now,
                            forked_from=forked[0],
                            forked_from_version=forked[1],
                        )
                        .returning(t.scenarios.c.id)
                    ).scalar_one()
                else:
                    scenario_id = row.id
                connection.execute(
                    sa.insert(t.versions).values(
                        scenario_id=scenario_id,
                        version=latest + 1,
                        author=author,
                        created_at=now,
                        message=message,
                        content=content,
                        snapshot=None if snapshot is None else str(snapshot),
                        restored_from=_restored_from,
                    )
                )
        except sa.exc.IntegrityError:
            # The database let another save of the same version (or the same new name) in first.
            with self._read() as connection:
                row = connection.execute(
                    sa.select(t.scenarios).where(t.scenarios.c.name == scenario.name)
                ).first()
                latest = 0 if row is None else self._latest(connection, row.id)
                raise self._conflict(connection, scenario.name, row, base_version, latest) from None
        return ScenarioVersion(
            scenario.name,
            latest + 1,
            author,
            now,
            message,
            content,
            None if snapshot is None else str(snapshot),
            _restored_from,
        )

    def _latest(self, connection, scenario_id: int) -> int:
        t = self.tables
        return int(
            connection.execute(
                sa.select(sa.func.max(t.versions.c.version)).where(
                    t.versions.c.scenario_id == scenario_id
                )
            ).scalar()
            or 0
        )

    def _conflict(
        self, connection, name, row, base_version, latest
    ) -> ConflictError | NotFoundError:
        if row is None:
            return NotFoundError(
                f"There is no scenario '{name}' in the store to save version "
                f"{base_version + 1} of.",
                fix="Save it without a base version to start it, or check the name.",
            )
        since = self._versions(connection, row.id, after=base_version or 0)
        shown = since[-5:]  # the newest five, and how many came before them
        listing = "; ".join(v.describe() for v in shown)
        if len(since) > len(shown):
            listing = f"{len(since) - len(shown)} earlier versions, then {listing}"
        if not base_version:
            return ConflictError(
                f"The store already has a scenario '{name}' (latest v{latest}: "
                f"{since[-1].author} at {since[-1].created_at}). Nothing was saved.",
                latest=latest,
                since=since,
                fix=f"Save it as a new version of v{latest} (--base-version {latest}) after "
                    f"looking at "
                f"`scenario show '{name}'`, or give it another name (`scenario fork`).",
            )
        return ConflictError(
            f"Scenario '{name}' changed since v{base_version}, which your edits start from: "
            f"{listing}. "
            "Nothing was saved.",
            latest=latest,
            since=since,
            fix=f"Look at `geo-coverage scenario diff '{name}' {base_version} {latest}`, merge "
                f"your edits "
            f"into v{latest} and save with --base-version {latest} (or fork it under a new name).",
        )

    def _versions(
        self, connection, scenario_id: int, version: int | None = None, *, after: int | None = None
    ) -> list[ScenarioVersion]:
        t = self.tables
        query = (
            sa.select(t.versions, t.scenarios.c.name)
            .join(t.scenarios, t.scenarios.c.id == t.versions.c.scenario_id)
            .where(t.versions.c.scenario_id == scenario_id)
            .order_by(t.versions.c.version)
        )
        if version is not None:
            query = query.where(t.versions.c.version == version)
        if after is not None:
            query = query.where(t.versions.c.version > after)
        return [
            ScenarioVersion(
                row.name,
                row.version,
                row.author,
                row.created_at,
                row.message,
                row.content,
                row.snapshot,
                row.restored_from,
            )
            for row in connection.execute(query)
        ]

    def _scenario_row(self, connection, name: str):
        t = self.tables
        row = connection.execute(sa.select(t.scenarios).where(t.scenarios.c.name == name)).first()
        if row is None:
            names = (
                connection.execute(sa.select(t.scenarios.c.name).order_by(t.scenarios.c.name))
                .scalars()
                .all()
            )
            raise NotFoundError(
                f"No scenario '{name}' in the store {self.location} "
                f"(scenarios: {', '.join(names) or 'none yet'}).",
                fix="Run `geo-coverage scenario list` for the names.",
            )
        return row

    def list_scenarios(self) -> list[ScenarioSummary]:
        """Every scenario with its latest version, most recently saved first."""
        t = self.tables
        latest = (
            sa.select(t.versions.c.scenario_id, sa.func.max(t.versions.c.version).label("latest"))
            .group_by(t.versions.c.scenario_id)
            .subquery()
        )
        query = (
            sa.select(
                t.scenarios,
                latest.c.latest,
                t.versions.c.author,
                t.versions.c.created_at.label("updated_at"),
            )
            .join(latest, latest.c.scenario_id == t.scenarios.c.id)
            .join(
                t.versions,
                sa.and_(
                    t.versions.c.scenario_id == t.scenarios.c.id,
                    t.versions.c.version == latest.c.latest,
                ),
            )
        )
        with self._read() as connection:
            rows = connection.execute(query).all()
        out = [
            ScenarioSummary(
                row.name,
                row.latest,
                row.author,
                row.updated_at,
                row.created_by,
                row.created_at,
                row.forked_from,
                row.forked_from_version,
            )
            for row in rows
        ]
        return sorted(out, key=lambda s: s.updated_at, reverse=True)

    def scenario_history(self, name: str) -> list[ScenarioVersion]:
        """Every version of a scenario, oldest first."""
        with self._read() as connection:
            return self._versions(connection, self._scenario_row(connection, name).id)

    def get_scenario(self, name: str, version: int | None = None) -> ScenarioVersion:
        """One version of a scenario (the latest by default)."""
        with self._read() as connection:
            row = self._scenario_row(connection, name)
            version = version or self._latest(connection, row.id)
            found = self._versions(connection, row.id, version)
            if not found:
                raise NotFoundError(
                    f"Scenario '{name}' has no version {version} "
                    f"(it has 1 to {self._latest(connection, row.id)}).",
                    fix="Run `geo-coverage scenario history` for its versions.",
                )
            return found[0]

    def diff_scenario(self, name: str, old: int, new: int) -> ScenarioDiff:
        """The edits removed and added from version ``old`` to version ``new``."""
        before = scenario_to_dict(self.get_scenario(name, old).scenario())
        after = scenario_to_dict(self.get_scenario(name, new).scenario())
        old_edits, new_edits = before.pop("edits"), after.pop("edits")
        removed = _multiset_minus(old_edits, new_edits)
        added = _multiset_minus(new_edits, old_edits)
        fields = {
            key: (before.get(key), after.get(key))
            for key in sorted(set(before) | set(after))
            if before.get(key) != after.get(key)
        }
        return ScenarioDiff(name, old, new, tuple(removed), tuple(added), fields)

    def restore_scenario(
        self,
        name: str,
        version: int,
        *,
        base_version: int | None = None,
        author: str | None = None,
        message: str | None = None,
    ) -> ScenarioVersion:
        """Save version ``version``'s content as a new version (nothing is overwritten).

        ``base_version`` defaults to the latest version at the time of the call."""
        old = self.get_scenario(name, version)
        if base_version is None:
            base_version = self.get_scenario(name).version
        return self.save_scenario(
            old.scenario(),
            message=message or f"restored v{version}",
            base_version=base_version,
            author=author,
            snapshot=old.snapshot,
            _restored_from=version,
        )

    def fork_scenario(
        self,
        name: str,
        new_name: str,
        *,
        version: int | None = None,
        author: str | None = None,
        message: str | None = None,
    ) -> ScenarioVersion:
        """Start a new scenario ``new_name`` from a version of ``name`` (the latest by default)."""
        from dataclasses import replace

        old = self.get_scenario(name, version)
        new_name = " ".join(str(new_name).split())
        if not new_name:
            raise ScenarioError("A fork needs a new name.", fix="Give the new scenario's name.")
        forked = replace(old.scenario(), name=new_name)
        return self.save_scenario(
            forked,
            message=message or f"forked from '{name}' v{old.version}",
            base_version=None,
            author=author,
            snapshot=old.snapshot,
            _forked_from=(name, old.version),
        )


def _multiset_minus(items: list, other: list) -> list:
    remaining = list(other)
    out = []
    for item in items:
        if item in remaining:
            remaining.remove(item)
        else:
            out.append(item)
    return out
