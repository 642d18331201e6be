"""docs/ARCHITECTURE.md holds: who may import whom, and where each library may appear.

Every module's imports are parsed, those inside functions and ``TYPE_CHECKING`` blocks
included, and checked against the two tables of the document; a failure names the
offending file, line and import.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path

import attrs
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "telnyx_group_mms"
DOC = ROOT / "docs" / "ARCHITECTURE.md"


@attrs.frozen(kw_only=True)
class Layer:
    name: str
    entries: tuple[str, ...]
    sits_on: tuple[str, ...]


@attrs.frozen(kw_only=True)
class LayerMap:
    layers: tuple[Layer, ...]
    libraries: Mapping[str, tuple[str, ...]]

    def layer_of(self, module: str) -> Layer | None:
        """The layer whose most specific entry covers ``module``."""
        best: tuple[int, Layer] | None = None
        for layer in self.layers:
            for entry in layer.entries:
                if covers(entry, module) and (best is None or len(entry) > best[0]):
                    best = (len(entry), layer)
        return None if best is None else best[1]

    def reachable(self, layer: Layer) -> set[str]:
        """The names of ``layer`` and of every layer it sits on, directly or not."""
        by_name = {each.name: each for each in self.layers}
        seen: set[str] = set()
        stack = [layer.name]
        while stack:
            name = stack.pop()
            if name not in seen:
                seen.add(name)
                stack.extend(by_name[name].sits_on)
        return seen


@attrs.frozen(kw_only=True)
class Import:
    line: int
    target: str  # a module of the package, fully qualified, or a top-level library name
    internal: bool


def covers(entry: str, module: str) -> bool:
    # The package's own entry (``__init__``) is that one module, not everything below it.
    return module == entry or (entry != PACKAGE and module.startswith(entry + "."))


def qualified(name: str) -> str:
    """A module name as the document writes it (``__init__`` for the package), made absolute."""
    return PACKAGE if name == "__init__" else f"{PACKAGE}.{name}"


def table_rows(text: str, heading: str) -> Iterator[list[str]]:
    """The cells of each body row of the first table under ``heading``."""
    lines = text.splitlines()
    start = lines.index(heading)
    rows = []
    for line in lines[start + 1 :]:
        if line.startswith("#"):
            break
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    yield from rows[2:]  # past the header and its rule


def names_in(cell: str) -> tuple[str, ...]:
    return tuple(re.findall(r"`([^`]+)`", cell))


def read_map(text: str) -> LayerMap:
    layers = []
    for name, modules, sits_on, _why in table_rows(text, "## Layers"):
        below = () if sits_on == "—" else tuple(part.strip() for part in sits_on.split(","))
        layers.append(
            Layer(name=name, entries=tuple(qualified(m) for m in names_in(modules)), sits_on=below)
        )
    libraries = {}
    for library, modules, _why in table_rows(text, "## Third-party libraries"):
        libraries[library] = ("*",) if modules == "any module" else names_in(modules)
    return LayerMap(layers=tuple(layers), libraries=libraries)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted((ROOT / PACKAGE).rglob("*.py"))}


def imports_of(source: str, *, module: str, is_package: bool, known: set[str]) -> list[Import]:
    """Every import in ``source`` (module ``module``), relative ones resolved."""
    found = []
    here = module if is_package else module.rpartition(".")[0]

    def add(line: int, name: str) -> None:
        if name == PACKAGE or name.startswith(PACKAGE + "."):
            # `from .x import y` names a module when y is one, else an attribute of x.
            while name not in known and "." in name:
                name = name.rpartition(".")[0]
            found.append(Import(line=line, target=name, internal=True))
        elif name.split(".")[0] not in sys.stdlib_module_names and name != "__future__":
            found.append(Import(line=line, target=name.split(".")[0], internal=False))

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".")[: len(here.split(".")) - node.level + 1]
                origin = ".".join([*base, *([node.module] if node.module else [])])
            else:
                origin = node.module or ""
            for alias in node.names:
                add(node.lineno, f"{origin}.{alias.name}")
    return found


def violations(layer_map: LayerMap, modules: Mapping[str, str]) -> list[str]:
    """One line per import that breaks the map, for modules given as name -> source."""
    known = set(modules)
    problems = []
    for module, source in modules.items():
        is_package = any(other.startswith(module + ".") for other in known)
        path = module.replace(".", "/") + ("/__init__.py" if is_package else ".py")
        layer = layer_map.layer_of(module)
        if layer is None:
            problems.append(f"{module} is in no layer of docs/ARCHITECTURE.md")
            continue
        allowed = layer_map.reachable(layer)
        for imp in imports_of(source, module=module, is_package=is_package, known=known):
            where = f"{path}:{imp.line}"
            if imp.internal:
                target_layer = layer_map.layer_of(imp.target)
                if target_layer is not None and target_layer.name not in allowed:
                    problems.append(
                        f"{where} imports {imp.target} (layer {target_layer.name}), but layer "
                        f"{layer.name} sits on {', '.join(layer.sits_on) or 'nothing'}"
                    )
                continue
            owners = layer_map.libraries.get(imp.target)
            if owners is None:
                problems.append(f"{where} imports {imp.target}, a library the map does not list")
            elif owners != ("*",) and not any(covers(qualified(o), module) for o in owners):
                problems.append(
                    f"{where} imports {imp.target}, allowed only in {', '.join(owners)}"
                )
    return problems


@pytest.fixture(scope="module")
def layer_map() -> LayerMap:
    return read_map(DOC.read_text(encoding="utf-8"))


def test_every_import_of_the_package_follows_the_layer_map(layer_map: LayerMap) -> None:
    sources = {name: path.read_text(encoding="utf-8") for name, path in package_modules().items()}
    problems = violations(layer_map, sources)
    assert not problems, "\n".join(problems)


def test_the_checker_names_an_import_that_climbs_a_layer(layer_map: LayerMap) -> None:
    sources = {name: path.read_text(encoding="utf-8") for name, path in package_modules().items()}
    # The sandbox must never use the client; the import hides inside a function.
    sources["telnyx_group_mms.sandbox._app"] += (
        "\ndef _sneak():\n    from ..client import AsyncTelnyx\n    return AsyncTelnyx\n"
    )
    problems = violations(layer_map, sources)
    assert len(problems) == 1
    assert (
        "imports telnyx_group_mms.client (layer client), but layer sandbox sits on" in (problems[0])
    )
    assert problems[0].startswith("telnyx_group_mms/sandbox/_app.py:")


def test_the_checker_names_a_library_used_outside_its_modules(layer_map: LayerMap) -> None:
    sources = {name: path.read_text(encoding="utf-8") for name, path in package_modules().items()}
    sources["telnyx_group_mms.webhooks._models"] += (
        "\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import aiohttp\n"
    )
    sources["telnyx_group_mms.models"] += "\nimport requests\n"
    problems = violations(layer_map, sources)
    assert len(problems) == 2
    assert any("imports aiohttp, allowed only in _transport, sandbox" in p for p in problems)
    assert any("imports requests, a library the map does not list" in p for p in problems)


def test_every_module_has_a_layer_and_every_entry_a_module(layer_map: LayerMap) -> None:
    modules = set(package_modules())
    unmapped = sorted(m for m in modules if layer_map.layer_of(m) is None)
    assert not unmapped, f"modules in no layer of docs/ARCHITECTURE.md: {unmapped}"
    entries = [e for layer in layer_map.layers for e in layer.entries]
    entries += [qualified(o) for owners in layer_map.libraries.values() for o in owners if o != "*"]
    missing = sorted(e for e in entries if not any(covers(e, m) for m in modules))
    assert not missing, f"docs/ARCHITECTURE.md names modules that do not exist: {missing}"


def test_each_layer_sits_only_on_layers_listed_before_it(layer_map: LayerMap) -> None:
    seen: set[str] = set()
    for layer in layer_map.layers:
        unknown = [below for below in layer.sits_on if below not in seen]
        assert not unknown, f"layer {layer.name} sits on {unknown}, not listed below it"
        seen.add(layer.name)


def test_every_library_in_the_map_is_a_declared_dependency(layer_map: LayerMap) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = [*project["dependencies"]]
    for extra in project["optional-dependencies"].values():
        declared += extra
    names = {re.split(r"[\[<>=;! ]", spec, maxsplit=1)[0].lower() for spec in declared}
    # An import name may differ from its distribution's (opentelemetry: opentelemetry-api).
    owners = importlib.metadata.packages_distributions()
    missing = sorted(
        lib
        for lib in layer_map.libraries
        if not any(d.lower() in names for d in [lib, *owners.get(lib, [])])
    )
    assert not missing, (
        f"libraries in docs/ARCHITECTURE.md that pyproject.toml does not declare: {missing}"
    )


def test_the_package_keeps_few_top_level_modules() -> None:
    # Modules side by side, as the flat layout had 29 of; subpackages group the rest.
    top = sorted(p.name for p in (ROOT / PACKAGE).glob("*.py"))
    assert len(top) <= 20, top
