"""Concrete adapters are built in one place, the composition root: ``adapters/bootstrap.py``
with its builders in ``adapters/bootstrap_ports.py``.

import-linter keeps the port implementations' modules out of the rest of ``adapters/``
(see ``pyproject.toml``); this test reads the code for what an import cannot show: a
constructor called where a module is imported only for its types (``TokenStore`` in the
web layer, say). Concrete adapters are found, not listed: every class under
``adapters/`` (fakes aside) with all the methods of a port in ``core/ports.py``,
plus the store-backed services the web layer and the engine share.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import adapters
from core import ports

ROOT = Path(__file__).resolve().parents[2]
PORTS = (ports.Assistant, ports.Messenger, ports.MarketOrders, ports.PushClient)
# Store-backed services, not ports: one instance each, shared by the API and the workers.
SHARED_SERVICES = {
    "TokenStore": "adapters.auth.tokens",
    "ReadModel": "adapters.readmodel.queries",
    "DeviceRegistry": "adapters.notify.devices",
}
# Outside clients: their timeouts and retries are settings, so only the root makes them
# (the SDK client through the one factory, which lives beside the OpenAI adapter).
CLIENT_FACTORIES = {
    "build_openai_client": "adapters.assistant.openai_assistant",
    "AsyncOpenAI": "adapters.assistant.openai_assistant",
}
COMPOSITION_ROOT = (ROOT / "adapters" / "bootstrap.py", ROOT / "adapters" / "bootstrap_ports.py")


def _adapter_modules() -> list[str]:
    names = [m.name for m in pkgutil.walk_packages(adapters.__path__, "adapters.")]
    return [n for n in names if not n.startswith("adapters.fakes")]


def _parameters(function: object) -> list[str]:
    return list(inspect.signature(function).parameters)  # type: ignore[arg-type]


def _implements(cls: type, port: type) -> bool:
    """``cls`` has every method of ``port``, with the same parameter names."""
    methods = {n: v for n, v in vars(port).items() if inspect.isfunction(v) and n[0] != "_"}
    return all(
        inspect.isfunction(getattr(cls, name, None))
        and _parameters(getattr(cls, name)) == _parameters(method)
        for name, method in methods.items()
    )


@functools.cache
def concrete_adapters() -> dict[str, str]:
    """Class name -> defining module, for every class that implements a port."""
    found: dict[str, str] = {}
    for name in _adapter_modules():
        module = importlib.import_module(name)
        for cls_name, cls in vars(module).items():
            if not inspect.isclass(cls) or cls.__module__ != name:
                continue
            if any(_implements(cls, p) for p in PORTS):
                found[cls_name] = name
    return found


def constructions(source: str, names: set[str]) -> list[tuple[int, str]]:
    """(line, name) of every call of one of ``names`` in ``source``."""
    calls: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if called in names:
                calls.append((node.lineno, called))
    return calls


def test_every_port_implementation_is_found() -> None:
    """The finder sees both sides of every port (so the rule below cannot hold vacuously)."""
    assert {
        "OfflineAssistant",
        "OpenAIAssistant",
        "ResilientAssistant",
        "SandboxMessenger",
        "GraphMessenger",
        "LocalMarketOrders",
        "HttpMarketOrders",
        "FcmClient",
        "RecordingPushClient",
    } <= set(concrete_adapters())


def test_the_root_builds_every_port_implementation_the_service_picks() -> None:
    """Each builder's constructor calls are in the root's two modules (none is orphaned)."""
    source = "\n".join(p.read_text(encoding="utf-8") for p in COMPOSITION_ROOT)
    built = {name for _, name in constructions(source, set(concrete_adapters()))}
    assert {
        "OfflineAssistant",
        "OpenAIAssistant",
        "ResilientAssistant",
        "GraphMessenger",
        "SandboxMessenger",
        "LocalMarketOrders",
        "HttpMarketOrders",
        "FcmClient",
    } <= built


def test_the_scanner_sees_plain_and_qualified_constructor_calls() -> None:
    """Both ``TokenStore(...)`` and ``tokens.TokenStore(...)`` count as building one."""
    source = "x = TokenStore(engines)\ny = tokens.TokenStore(engines)\nz = TokenStore\n"
    assert constructions(source, {"TokenStore"}) == [(1, "TokenStore"), (2, "TokenStore")]


def _shell_files() -> list[Path]:
    files = sorted((ROOT / "adapters").rglob("*.py"))
    return [p for p in files if p not in COMPOSITION_ROOT and "fakes" not in p.parts]


@pytest.mark.parametrize("path", _shell_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_adapters_are_built_only_in_the_composition_root(path: Path) -> None:
    """No module outside the root builds a port implementation, shared service or SDK client."""
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
    homes = {**concrete_adapters(), **SHARED_SERVICES, **CLIENT_FACTORIES}
    guarded = {name for name, home in homes.items() if home != module}  # a class may make itself
    assert constructions(path.read_text(encoding="utf-8"), guarded) == []
