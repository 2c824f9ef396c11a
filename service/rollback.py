"""Rolling an index back: an earlier generation made current again (`pqa index rollback`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from index.errors import IndexNotFound
from index.snapshot import Snapshot

if TYPE_CHECKING:
    from index.store import Store


def rollback(store: Store, name: str, lock_wait: float = 0.0) -> str | None:
    """Make an earlier generation current again after checking it loads; returns the one it replaces."""
    with store.lock(wait=lock_wait):
        if name not in store.names():
            raise IndexNotFound(
                f"no generation {name} in {store.root}; the ones there: pqa index list --index {store.root}"
            )
        Snapshot.load(store.open(name))
        replaced = store.current_name()
        store.point_to(name)
        return replaced
