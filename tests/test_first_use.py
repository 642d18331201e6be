"""What a client loads on first use is loaded off the running event loop.

A loop that imports aiohttp or builds the cattrs converter itself stalls every other
task it serves for as long (hundreds of milliseconds). How long a stall lasts is timing,
measured by ``benchmarks/loop_stall.py``; what is checked here cannot flake: on which
thread the heavy modules are imported and the converter is built, in a fresh interpreter.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from .conftest import FROM, KEY, TO
from .scripted_server import Reply, ScriptedServer

_SCRIPT = textwrap.dedent(
    f"""
    import asyncio, importlib.abc, importlib.util, json, sys, threading

    HEAVY = ("aiohttp", "cattrs", "orjson", "tenacity")
    imported = {{}}  # module -> the thread that imported it, while the loop ran
    loop_running = False

    converter_built_on = []

    def watch_converter(module):
        make_converter = module.make_converter

        def watched():
            converter_built_on.append(threading.current_thread().name)
            return make_converter()

        module.make_converter = watched

    class Watch(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if loop_running and name in HEAVY and name not in imported:
                imported[name] = threading.current_thread().name
            if name != "telnyx_group_mms._wire.serialization":
                return None
            # Found by the other finders; watched once it has run.
            sys.meta_path.remove(self)
            try:
                spec = importlib.util.find_spec(name)
            finally:
                sys.meta_path.insert(0, self)
            exec_module = spec.loader.exec_module
            spec.loader.exec_module = lambda module: (exec_module(module), watch_converter(module))
            return spec

    sys.meta_path.insert(0, Watch())
    import telnyx_group_mms as tgm

    async def main():
        global loop_running
        loop_running = True
        retry = tgm.RetryPolicy(initial_backoff=0.001, max_backoff=0.002)
        client = tgm.AsyncTelnyx(api_key={KEY!r}, base_url=sys.argv[1], retry=retry)
        after_build = sorted(m for m in HEAVY if m in sys.modules)
        # The server answers 503 first: the retry loads tenacity.
        await client.messages.send_group_mms(from_={FROM!r}, to={TO!r}, text="Hello")
        await client.aclose()
        print(json.dumps({{
            "loop_thread": threading.current_thread().name,
            "after_build": after_build,
            "imported": imported,
            "converter_built_on": converter_built_on,
        }}))

    asyncio.run(main())
    """
)


def test_the_first_send_loads_the_http_stack_and_builds_the_converter_off_the_loop(
    server: ScriptedServer,
) -> None:
    server.push(Reply(status=503), Reply())
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, server.base_url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    seen = json.loads(done.stdout)

    assert seen["after_build"] == []  # building the client loads none of them
    assert sorted(seen["imported"]) == ["aiohttp", "cattrs", "orjson", "tenacity"]
    assert seen["loop_thread"] not in seen["imported"].values()
    assert len(seen["converter_built_on"]) == 1
    assert seen["converter_built_on"] != [seen["loop_thread"]]
    assert server.posts == 2
