"""docs/deploy.md and deploy/ stay in step with the code: templates, files, settings."""

from __future__ import annotations

import re
from pathlib import Path

from core.outbound import TemplateMessage
from core.outbox.content import content_for
from events.conversation import ReplyKind, ReplyQueued

ROOT = Path(__file__).parents[2]
GUIDE = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
TEMPLATE_CONSTANT = re.compile(r'^\w*TEMPLATE\w* = "(\w+)"', re.M)


def templates_in_code() -> set[str]:
    """Names of every template the service can send (``*TEMPLATE* = "name"`` constants)."""
    found: set[str] = set()
    for folder in ("core", "adapters"):
        for path in (ROOT / folder).rglob("*.py"):
            found |= set(TEMPLATE_CONSTANT.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_template_the_code_sends_is_in_the_guide() -> None:
    """Each template name has a row (name, recipient, when, body) in docs/deploy.md."""
    names = templates_in_code()
    assert {"dloop_nuovo_ordine", "dloop_ordine_consegnato"} <= names
    for name in names:
        assert re.search(rf"^\| `{name}` \|[^|]+\|[^|]+\| `[^`]+` \|$", GUIDE, re.M), name


def test_templates_go_out_in_italian_without_parameters() -> None:
    """What the guide tells to register (language it, no variables) is what is sent."""
    reply = ReplyQueued(
        outbound_id="o-1", to="+393281234567", kind=ReplyKind.TEMPLATE, text="dloop_nuovo_ordine"
    )
    content = content_for(reply)
    assert isinstance(content, TemplateMessage)
    assert (content.language, content.body_parameters) == ("it", ())
    assert "Italian (`it`)" in GUIDE
    assert "no variables" in GUIDE


def test_every_deploy_file_the_guide_names_exists() -> None:
    """Paths under deploy/ quoted in the guide are shipped."""
    named = set(re.findall(r"/opt/dloop/(deploy/[\w./@-]+)", GUIDE))
    assert named
    for path in named:
        matches = list(ROOT.glob(path))
        assert matches, path
    for unit in re.findall(r"(dloop-(?:web|worker)@)\d+", GUIDE):
        assert (ROOT / "deploy" / "systemd" / f"{unit}.service").is_file()


def test_the_production_env_example_names_only_real_settings() -> None:
    """Every NAME in deploy/dloop.env.example is read by adapters/settings.py."""
    settings = (ROOT / "adapters" / "settings.py").read_text(encoding="utf-8")
    example = (ROOT / "deploy" / "dloop.env.example").read_text(encoding="utf-8")
    names = re.findall(r"^([A-Z_]+)=", example, re.M)
    assert "DATABASE_URL" in names
    for name in names:
        assert f'"{name}"' in settings, name
