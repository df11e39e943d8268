"""What changed between two versions of a catalog."""

from __future__ import annotations

from typing import Any

import msgspec

from controls.models import Catalog, Control, Family

__all__ = ["CatalogDiff", "ControlChange", "FamilyChange", "FieldChange", "diff_catalogs"]


class FieldChange(msgspec.Struct, frozen=True, kw_only=True):
    """One field of a control (or family) with its old and new value, in builtins (JSON-ready) form."""

    field: str
    old: Any
    new: Any


class ControlChange(msgspec.Struct, frozen=True, kw_only=True):
    """A control present in both versions whose content differs."""

    id: str
    changes: list[FieldChange]

    @property
    def fields(self) -> list[str]:
        """The names of the fields that changed, in model order."""
        return [change.field for change in self.changes]


class FamilyChange(msgspec.Struct, frozen=True, kw_only=True):
    """A family present in both versions whose title, pillar, description or props differ."""

    id: str
    changes: list[FieldChange]


class CatalogDiff(msgspec.Struct, frozen=True, kw_only=True):
    """Differences from ``old`` to ``new``: controls added, removed and changed (and the same for families).

    Controls are matched by id. ``added`` is in the new catalog's order, ``removed`` and ``changed`` in the
    old catalog's order. A control that only moved within the catalog is not reported.
    """

    old_id: str
    old_version: str
    new_id: str
    new_version: str
    added: list[Control]
    removed: list[Control]
    changed: list[ControlChange]
    families_added: list[Family]
    families_removed: list[Family]
    families_changed: list[FamilyChange]

    @property
    def is_empty(self) -> bool:
        """True when no control or family was added, removed or changed."""
        return not (
            self.added
            or self.removed
            or self.changed
            or self.families_added
            or self.families_removed
            or self.families_changed
        )


def _field_changes(old: msgspec.Struct, new: msgspec.Struct) -> list[FieldChange]:
    changes = []
    for field in old.__struct_fields__:
        before, after = getattr(old, field), getattr(new, field)
        if before != after:
            changes.append(FieldChange(field=field, old=msgspec.to_builtins(before), new=msgspec.to_builtins(after)))
    return changes


def diff_catalogs(old: Catalog, new: Catalog) -> CatalogDiff:
    """Compare two catalogs (usually two versions of one catalog) control by control."""
    old_controls = {control.id: control for control in old.controls}
    new_controls = {control.id: control for control in new.controls}
    changed = []
    for control in old.controls:
        if control.id in new_controls and control != new_controls[control.id]:
            changed.append(ControlChange(id=control.id, changes=_field_changes(control, new_controls[control.id])))
    old_families = {family.id: family for family in old.families}
    new_families = {family.id: family for family in new.families}
    families_changed = [
        FamilyChange(id=family.id, changes=_field_changes(family, new_families[family.id]))
        for family in old.families
        if family.id in new_families and family != new_families[family.id]
    ]
    return CatalogDiff(
        old_id=old.id,
        old_version=old.version,
        new_id=new.id,
        new_version=new.version,
        added=[control for control in new.controls if control.id not in old_controls],
        removed=[control for control in old.controls if control.id not in new_controls],
        changed=changed,
        families_added=[family for family in new.families if family.id not in old_families],
        families_removed=[family for family in old.families if family.id not in new_families],
        families_changed=families_changed,
    )
