"""Push device tokens over the API: register, list, remove (roles: admin, support).

The same code path as ``dloop-bot devices``
(:class:`~adapters.notify.devices.DeviceRegistry`): validated, written to ``push_devices``
and recorded as ``notify.device_registered`` / ``notify.device_removed`` events, with
``by`` naming the API token. Tokens are secrets of the device: answers carry the
fingerprint (``device``) instead, and ``DELETE /api/devices/{token}`` takes either.

There is no rider role: a rider's device is registered by staff (or the CLI) on the
rider's behalf. A registration for an existing token moves it to the new owner (200);
a new token answers 201.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from adapters.notify.devices import OWNER_KINDS, Device, DeviceError, DeviceRegistry
from adapters.web.api.common import (
    PRINCIPAL,
    ApiError,
    choice_param,
    json_response,
    only_params,
    text_param,
)
from adapters.web.keys import DEPS
from core.phones import normalize_phone

FIELDS = ("owner_kind", "owner_id", "token", "platform")
BODY_MAX = 8192


def _registry(request: web.Request) -> DeviceRegistry:
    return request.app[DEPS].devices


def _by(request: web.Request) -> str:
    return f"api:{request[PRINCIPAL].agent}"


def device_json(d: Device) -> dict[str, Any]:
    """A device as the API shows it (the fingerprint, never the token)."""
    return {
        "device": d.fingerprint,
        "owner_kind": d.owner_kind,
        "owner_id": d.owner,
        "platform": d.platform,
        "created_at": d.created_at,
    }


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if len(raw) > BODY_MAX:
        raise ApiError(422, f"body must be at most {BODY_MAX} bytes")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(422, "body must be a JSON object") from None
    if not isinstance(body, dict):
        raise ApiError(422, "body must be a JSON object")
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise ApiError(422, f"unknown field: {', '.join(unknown)}")
    for name in ("owner_kind", "owner_id", "token"):
        if not isinstance(body.get(name), str):
            raise ApiError(422, f"{name} is required and must be a string")
    if body.get("platform") is not None and not isinstance(body["platform"], str):
        raise ApiError(422, "platform must be a string")
    return body


async def register_device(request: web.Request) -> web.Response:
    """``POST /api/devices``: register (or move) a device token; 201 new, 200 moved."""
    only_params(request, ())
    body = await _body(request)
    try:
        device, created = await _registry(request).add(
            body["token"],
            body["owner_kind"],
            body["owner_id"],
            platform=body.get("platform"),
            by=_by(request),
        )
    except DeviceError as exc:
        raise ApiError(422, str(exc)) from None
    return json_response(device_json(device), status=201 if created else 200)


async def list_devices(request: web.Request) -> web.Response:
    """``GET /api/devices[?owner_kind=&owner_id=]``: registered devices, oldest first."""
    only_params(request, ("owner_kind", "owner_id"))
    kind = choice_param(request, "owner_kind", OWNER_KINDS)
    owner = text_param(request, "owner_id")
    if owner is not None:
        owner = normalize_phone(owner) or owner  # phones are stored in E.164
    devices = await _registry(request).list(kind, owner)
    return json_response({"items": [device_json(d) for d in devices]})


async def remove_device(request: web.Request) -> web.Response:
    """``DELETE /api/devices/{token}``: forget a device by its token or its fingerprint."""
    only_params(request, ())
    registry = _registry(request)
    found = await registry.find(request.match_info["token"])
    if found is None or not await registry.remove(found.token, by=_by(request)):
        raise ApiError(404, "no such device")
    return json_response({"removed": found.fingerprint})
