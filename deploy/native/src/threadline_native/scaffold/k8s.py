"""A new service in deploy/k8s's kustomizations: the entries templates/service/k8s-registration
.yaml.jinja lists, appended to lists of the shared files with ruamel round trips, and taken out
again by remove-service so that each file is byte for byte what it was.

The service's own manifests (its Deployment, Service, Job, budget, policies; prod's PodMonitor)
are whole files of the copier template; only these list entries live in shared files.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from threadline_native.scaffold import yaml_files
from threadline_native.scaffold.spec import ServiceSpec

Touch = Callable[[Path], Path]
EDITS_TEMPLATE = Path("templates") / "service" / "k8s-registration.yaml.jinja"


class K8sRegistrationError(RuntimeError):
    """A kustomization is not shaped the way an edit names it."""


@dataclass(frozen=True)
class ListEdit:
    """Append ``items`` to the list at ``at`` in ``file`` (or names to a comma-separated value)."""

    file: Path
    at: tuple[str, ...]
    items: tuple[Any, ...]


def _version(root: Path, spec: ServiceSpec) -> str:
    """The service's package version: its image tag, as the Dockerfile's label has it."""
    pyproject = root / spec.directory / "pyproject.toml"
    return str(tomllib.loads(pyproject.read_text())["project"]["version"])


def _stripped(node: Any) -> Any:
    """The node without the fragment file's comments (they describe the edits, not the entry)."""
    if isinstance(node, CommentedMap | CommentedSeq):
        node.ca.items.clear()
        node.ca.comment = None
        for child in node.values() if isinstance(node, CommentedMap) else node:
            _stripped(child)
    return node


def edits(root: Path, spec: ServiceSpec) -> list[ListEdit]:
    """The template's edits for ``spec``, rendered (jinja) and parsed (round-trip nodes)."""
    # YAML, not HTML: nothing to escape (names are checked identifiers, values fixed).
    environment = jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701
    )
    text = environment.from_string((root / EDITS_TEMPLATE).read_text()).render(
        name=spec.name, env_prefix=f"{spec.name.upper()}_", version=_version(root, spec)
    )
    return [
        ListEdit(Path(e["file"]), tuple(e["at"]), tuple(_stripped(i) for i in e["add"]))
        for e in yaml_files.parse(text)
    ]


def _step(node: Any, segment: str, where: str) -> Any:
    if isinstance(node, CommentedSeq):
        found = [i for i in node if isinstance(i, CommentedMap) and i.get("name") == segment]
        if len(found) != 1:
            raise K8sRegistrationError(f"{where}: no single item named {segment!r}")
        return found[0]
    if not isinstance(node, CommentedMap) or segment not in node:
        raise K8sRegistrationError(f"{where}: no {segment!r}")
    return node[segment]


def _parent_and_key(data: Any, edit: ListEdit) -> tuple[Any, str]:
    node, where = data, str(edit.file)
    for segment in edit.at[:-1]:
        node = _step(node, segment, where)
        where += f" > {segment}"
    _step(node, edit.at[-1], where)
    return node, edit.at[-1]


def _identity(item: Any) -> Any:
    return item.get("name") if isinstance(item, CommentedMap) else item


# --- a list's trailing comment (the one before the next key) stays after its last item -------
def _last_chain(item_holder: CommentedSeq) -> list[tuple[Any, Any]]:
    """(container, key) from the list's last item down to that item's deepest last entry."""
    chain: list[tuple[Any, Any]] = []
    container: Any = item_holder
    while isinstance(container, CommentedMap | CommentedSeq) and len(container):
        key = len(container) - 1 if isinstance(container, CommentedSeq) else list(container)[-1]
        chain.append((container, key))
        container = container[key]
    return chain


def _slot_index(container: Any) -> int:
    # ruamel keeps a comment after a list item at slot 0, after a mapping's value at slot 2.
    return 0 if isinstance(container, CommentedSeq) else 2


def _take_trailing(seq: CommentedSeq) -> Any:
    for container, key in reversed(_last_chain(seq)):
        slot = container.ca.items.get(key)
        index = _slot_index(container)
        if slot is not None and len(slot) > index and slot[index] is not None:
            token = slot[index]
            slot[index] = None
            if not any(slot):
                del container.ca.items[key]
            return token
    return None


def _put_trailing(seq: CommentedSeq, token: Any) -> None:
    if token is None:
        return
    container, key = _last_chain(seq)[-1]
    slot = [None, None, None, None]
    slot[_slot_index(container)] = token
    container.ca.items[key] = slot


def _apply(data: Any, edit: ListEdit, *, add: bool) -> None:
    parent, key = _parent_and_key(data, edit)
    target = parent[key]
    wanted = {_identity(i) for i in edit.items}
    if isinstance(target, str):
        names = [n for n in target.split(",") if n not in wanted]
        parent[key] = ",".join([*names, *(map(str, edit.items) if add else ())])
        return
    if not isinstance(target, CommentedSeq):
        raise K8sRegistrationError(f"{edit.file} > {' > '.join(edit.at)}: not a list")
    token = _take_trailing(target)
    # Item by item (ruamel moves the comments of the items after a deleted one up with them).
    for index in reversed(range(len(target))):
        if _identity(target[index]) in wanted:
            del target[index]
    if add:
        target.extend(edit.items)
    _put_trailing(target, token)


def _run(root: Path, spec: ServiceSpec, touch: Touch, *, add: bool) -> None:
    planned = edits(root, spec)
    for file in dict.fromkeys(e.file for e in planned):
        path = touch(file)
        data = yaml_files.load(path)
        for edit in (e for e in planned if e.file == file):
            _apply(data, edit, add=add)
        yaml_files.dump(data, path)


def register(root: Path, spec: ServiceSpec, touch: Touch) -> None:
    """Append the service's entries; ``touch`` snapshots each file before it is written."""
    _run(root, spec, touch, add=True)


def unregister(root: Path, spec: ServiceSpec, touch: Touch) -> None:
    """Take the service's entries out (those present: a half-registered tree is cleaned too)."""
    _run(root, spec, touch, add=False)
