"""A name -> entry registry, the one mechanism behind layers, datasets, optimizers and the rest.

Registries replace if/elif chains: code asks the registry for an entry by the name the user
chose (the same name is the JSON key, the GUI label's id and the CLI value).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

from studio.core.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """An ordered mapping of unique names to entries; order is registration order (the GUI's order)."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._entries: dict[str, T] = {}

    def register(self, name: str, entry: T) -> T:
        """Add ``entry`` under ``name``; registering a name twice is a programming error."""
        if name in self._entries:
            raise ValueError(f"{self.what} {name!r} is already registered")
        self._entries[name] = entry
        return entry

    def unregister(self, name: str) -> T:
        """Remove and return the entry called ``name`` (a test's throwaway entry, say)."""
        return self._entries.pop(name)

    def get(self, name: str) -> T:
        """The entry called ``name``, or a :class:`ConfigError` listing the valid names."""
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(self._entries)
            raise ConfigError(f"unknown {self.what} {name!r}; choose one of: {known}", field=self.what) from None

    def names(self) -> list[str]:
        return list(self._entries)

    def items(self) -> list[tuple[str, T]]:
        return list(self._entries.items())

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)
