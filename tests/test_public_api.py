"""The public surface: exported names, typing marker, and no surprises at import time."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import telnyx_group_mms as tgm


def test_all_is_sorted_and_every_name_exists() -> None:
    assert tgm.__all__ == sorted(tgm.__all__)
    assert len(set(tgm.__all__)) == len(tgm.__all__)
    for name in tgm.__all__:
        assert hasattr(tgm, name), name


# Modules whose public names are used through the module itself, by design (the cli
# package's classes serve its commands only).
OWN_NAMESPACES = {"webhooks", "sandbox", "pytest_plugin", "cli"}


def test_every_public_class_defined_in_the_package_is_exported() -> None:
    import telnyx_group_mms.webhooks.receiver  # noqa: F401 - load it so it is checked too

    modules = [m for name, m in sys.modules.items() if name.startswith("telnyx_group_mms.")]
    exported = {id(getattr(tgm, n)) for n in tgm.__all__}
    for module in modules:
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if isinstance(obj, type) and obj.__module__ == module.__name__:
                in_top = id(obj) in exported
                in_own_namespace = module.__name__.split(".")[1] in OWN_NAMESPACES
                assert in_top or in_own_namespace, f"{module.__name__}.{name} is not exported"


def test_every_exported_name_is_loaded_lazily_from_its_module() -> None:
    lazy = tgm._EXPORTS
    assert sorted([*lazy, "__version__"]) == tgm.__all__
    for name, module in lazy.items():
        obj = getattr(tgm, name)
        assert getattr(sys.modules[f"telnyx_group_mms.{module}"], name) is obj
    assert set(tgm.__all__) <= set(dir(tgm))


def _type_checking_imports() -> set[tuple[str, str]]:
    """``(module, name)`` of each import in ``__init__.py``'s ``if TYPE_CHECKING:`` block."""
    tree = ast.parse(Path(tgm.__file__).read_text())
    blocks = [
        node
        for node in tree.body
        if isinstance(node, ast.If)
        and isinstance(node.test, ast.Name)
        and node.test.id == "TYPE_CHECKING"
    ]
    assert len(blocks) == 1, "expected one `if TYPE_CHECKING:` block"
    pairs = set()
    for node in blocks[0].body:
        assert isinstance(node, ast.ImportFrom), ast.dump(node)
        assert node.level == 1 and node.module, "relative imports of package modules only"
        for alias in node.names:
            # "X as X" marks an explicit re-export for type checkers.
            assert alias.asname == alias.name, f"{alias.name} must be imported as itself"
            pairs.add((node.module, alias.name))
    return pairs


def test_the_type_checking_imports_and_the_lazy_map_agree() -> None:
    lazy = {(module, name) for name, module in tgm._EXPORTS.items()}
    missing = sorted(lazy - _type_checking_imports())
    extra = sorted(_type_checking_imports() - lazy)
    assert not missing, f"in the lazy map but not under TYPE_CHECKING: {missing}"
    assert not extra, f"under TYPE_CHECKING but not in the lazy map: {extra}"


def test_each_name_is_mapped_to_one_module_only() -> None:
    names = [name for names in tgm._MODULES.values() for name in names]
    assert len(names) == len(set(names))


def test_an_unknown_name_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        tgm.no_such_thing  # noqa: B018 - the look-up is the test


def test_the_package_ships_a_py_typed_marker() -> None:
    assert (Path(tgm.__file__).parent / "py.typed").is_file()


def test_importing_starts_no_thread_reads_no_environment_and_builds_nothing() -> None:
    code = (
        "import os, threading, sys\n"
        "os.environ['TELNYX_API_KEY'] = 'x'\n"
        "before = threading.active_count()\n"
        "import telnyx_group_mms\n"
        "from telnyx_group_mms._wire import serialization\n"
        "assert threading.active_count() == before\n"
        "assert serialization.get_converter.cache_info().currsize == 0\n"
        "assert 'cryptography' not in sys.modules\n"
        "assert 'aiohttp' not in sys.modules, 'the HTTP stack loads on first use'\n"
        "assert 'tenacity' not in sys.modules\n"
        "telnyx_group_mms.AsyncTelnyx(api_key='x')\n"
        "assert 'aiolimiter' not in sys.modules, 'a client that never rate-limits skips it'\n"
        "assert 'tenacity' not in sys.modules, 'loaded on the first failed attempt'\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "ok", done.stderr
