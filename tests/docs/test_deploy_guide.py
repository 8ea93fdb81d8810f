"""docs/deploy.md and deploy/ stay in step with the code: templates, files, settings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from adapters.dotenv import parse_dotenv
from adapters.settings import SettingsError, load_settings
from core.outbound import OutboundMessage, payload_for
from core.outbox.content import content_for
from events.conversation import ReplyKind, ReplyQueued
from tests.docs.guide_templates import GUIDE, read_as_sent, registered

ROOT = Path(__file__).parents[2]
TEMPLATE_CONSTANT = re.compile(r'^\w*TEMPLATE\w* = "(\w+)"', re.M)


def templates_in_code() -> set[str]:
    """Names of every template the service can send (``*TEMPLATE* = "name"`` constants)."""
    found: set[str] = set()
    for folder in ("core", "adapters"):
        for path in (ROOT / folder).rglob("*.py"):
            found |= set(TEMPLATE_CONSTANT.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_template_the_code_sends_is_in_the_guide() -> None:
    """Each template name has a row (recipient, when, parameters) and a body to register."""
    names = templates_in_code()
    assert {"dloop_nuovo_ordine", "dloop_ordine_consegnato"} <= names
    documented = registered()
    for name in names:
        assert re.search(rf"^\| `{name}` \|[^|]+\|[^|]+\|[^|]+\|$", GUIDE, re.M), name
        assert name in documented, name
    assert set(documented) == names  # no template documented that the code never sends


def test_a_sent_template_reads_as_the_guide_registers_it() -> None:
    """The wire form of a queued template (code path of the outbox) fills the guide's body."""
    reply = ReplyQueued(
        outbound_id="o-1",
        to="+393281234567",
        kind=ReplyKind.TEMPLATE,
        text="dloop_nuovo_ordine",
        template_params=("12", "2 × Lettiera", "€ 22,70"),
    )
    message = OutboundMessage(outbound_id="o-1", to=reply.to, content=content_for(reply))
    text = read_as_sent(payload_for(message)["template"])
    assert text.startswith("Nuovo ordine Dloop n. 12:\n2 × Lettiera\n")
    assert "Totale con consegna: € 22,70" in text


def test_a_template_with_another_parameter_count_is_caught() -> None:
    """The comparison fails when the code would send fewer parameters than registered."""
    sent = {"name": "dloop_nuovo_ordine", "language": {"code": "it"}}
    with pytest.raises(AssertionError):
        read_as_sent(sent)


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


def test_the_env_example_leaves_the_meta_values_unset_until_part_3() -> None:
    """As the guide says: once its two values are chosen, the webhook has no secret (503)
    and replies go to the sandbox, instead of signing and sending with a placeholder."""
    example = (ROOT / "deploy" / "dloop.env.example").read_text(encoding="utf-8")
    chosen = {k: v.replace("CHANGE-ME", "chosen") for k, v in parse_dotenv(example).items()}
    settings = load_settings(chosen)
    assert settings.whatsapp_app_secret is None
    assert settings.whatsapp_access_token is None
    assert settings.whatsapp_phone_number_id is None
    assert settings.whatsapp_verify_token
    assert "POST /webhook` answers 503 and replies go to the sandbox" in GUIDE


@pytest.mark.parametrize("name", ["DATABASE_URL", "WHATSAPP_VERIFY_TOKEN"])
def test_a_value_left_as_in_the_example_stops_the_start(name: str) -> None:
    """A copied file not finished: one error naming the variable, not a start with it."""
    example = (ROOT / "deploy" / "dloop.env.example").read_text(encoding="utf-8")
    values = {k: v.replace("CHANGE-ME", "chosen") for k, v in parse_dotenv(example).items()}
    values[name] = parse_dotenv(example)[name]
    with pytest.raises(SettingsError, match=rf"^{name} still holds CHANGE-ME"):
        load_settings(values)
