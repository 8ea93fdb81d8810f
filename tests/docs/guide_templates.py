"""The message templates as ``docs/deploy.md`` tells operators to register them.

A template is refused by Meta at every send when its name, language or number of body
variables differs from the registered one, so tests compare what the service sends (the
Graph API ``template`` object) with the guide's table row and marked body block.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GUIDE = (Path(__file__).parents[2] / "docs" / "deploy.md").read_text(encoding="utf-8")
BLOCK = re.compile(r"^<!-- template: (\w+) -->\n```text\n(.*?)^```", re.M | re.S)
LANGUAGE = re.compile(r"language\s+\*\*Italian \(`(\w+)`\)\*\*")
VARIABLE = re.compile(r"\{\{(\d+)\}\}")


@dataclass(frozen=True, slots=True)
class Registered:
    """One template as the guide says to register it."""

    name: str
    language: str
    body: str

    def variables(self) -> int:
        """How many body variables the body holds (numbered 1..n, as Meta requires)."""
        numbers = sorted({int(n) for n in VARIABLE.findall(self.body)})
        assert numbers == list(range(1, len(numbers) + 1)), (self.name, numbers)
        return len(numbers)

    def filled(self, parameters: list[str]) -> str:
        """The text the recipient reads once Meta fills the variables in order."""
        return VARIABLE.sub(lambda m: parameters[int(m[1]) - 1], self.body).strip()


def registered() -> dict[str, Registered]:
    """Every template the guide documents, by name."""
    found = LANGUAGE.search(GUIDE)
    assert found is not None, "the guide names the templates' language"
    return {name: Registered(name, found[1], body) for name, body in BLOCK.findall(GUIDE)}


def read_as_sent(template: dict[str, Any]) -> str:
    """The text of a sent Graph API ``template`` object, checked against the guide.

    Same name, same language code, as many parameters as the registered body has
    variables; returns the registered body filled with the sent parameters.
    """
    documented = registered()[template["name"]]
    assert template["language"]["code"] == documented.language
    bodies = [c for c in template.get("components", []) if c["type"] == "body"]
    parameters = [str(p["text"]) for c in bodies for p in c["parameters"]]
    assert all(p["type"] == "text" for c in bodies for p in c["parameters"])
    assert len(parameters) == documented.variables(), (template["name"], parameters)
    return documented.filled(parameters)
