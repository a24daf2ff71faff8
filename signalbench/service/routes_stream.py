"""``WS /api/v1/ws/predictions``: the live predictions of a running ``signalbench stream infer``, relayed.

The server reads the prediction stream (``?stream=``, default ``lob:predictions``) of the Redis server given with
``signalbench serve --redis URL`` from the newest entry on (``XREAD BLOCK``) and sends each entry as one JSON text
message ``{"id": <entry id>, <field>: <value>, ...}``. The key comes as ``Authorization: Bearer`` or, since a
browser's WebSocket cannot set headers, as ``?key=``; it needs the ``read`` scope. Without ``--redis`` the socket is
closed at once with code 1011 and the reason.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, WebSocket
from starlette.websockets import WebSocketDisconnect

from signalbench.service import keys
from signalbench.service.state import Service

router = APIRouter()
NO_REDIS = "no prediction stream to relay: start the server with --redis URL (and `signalbench stream infer`)"


def _allowed(ws: WebSocket, svc: Service, key: str | None) -> bool:
    auth = ws.headers.get("authorization", "")
    token = auth[7:].strip() if auth.lower().startswith("bearer ") else key
    if token is None:
        return svc.open_reads
    found = keys.identify(svc.engine, token)
    return found is not None and "read" in found[1]


@router.websocket("/ws/predictions")
async def relay(
    ws: WebSocket,
    stream: Annotated[str, Query(max_length=200)] = "lob:predictions",
    key: Annotated[str | None, Query(max_length=200)] = None,
) -> None:
    """Send every new entry of the prediction stream as it arrives."""
    svc: Service = ws.app.state.service
    if not _allowed(ws, svc, key):
        await ws.close(code=1008, reason="authorization: expected an API key with scope 'read'")
        return
    redis_url = svc.extras.get("redis")
    if not redis_url:
        await ws.accept()
        await ws.close(code=1011, reason=NO_REDIS)
        return
    import redis.asyncio as aioredis

    client = aioredis.from_url(redis_url, decode_responses=True)
    await ws.accept()
    last = "$"
    try:
        while True:
            answer = await client.xread({stream: last}, block=500, count=500)
            for _, entries in answer:
                for entry_id, fields in entries:
                    await ws.send_text(json.dumps({"id": entry_id, **fields}))
                    last = entry_id
    except WebSocketDisconnect:
        pass
    finally:
        await client.aclose()
