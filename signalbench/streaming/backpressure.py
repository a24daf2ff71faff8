"""Backpressure: cap a stream only behind its slowest consumer group (``docs/architecture.md``, "Streaming").

An entry may be trimmed only when every group of the stream has acknowledged it. For one group, read in this order:

1. ``XINFO GROUPS``: the group's ``last-delivered-id`` L (every entry <= L has been delivered to it);
2. ``XPENDING`` (summary): the smallest id P still pending (delivered, not acknowledged), if any.

Every entry below ``min(L + 1, P)`` was delivered (it is <= L) and is not pending (it is < P, and an entry leaves the
pending list only by an acknowledgement): it is acknowledged. Reading L before P keeps this true while the consumer
runs (entries delivered between the two reads are > L). The stream's safe bound is the minimum over its groups, and
``XTRIM MINID ~ bound`` removes only entries below it (the approximate form removes whole macro nodes, so possibly
fewer, never more). A stream without a group is never trimmed: nothing has been acknowledged.
"""

from __future__ import annotations

from signalbench.streaming._redis import RedisLink
from signalbench.streaming.codec import id_key, next_id

__all__ = ["safe_trim_id", "trim_behind_groups"]


def safe_trim_id(link: RedisLink, stream: str) -> str | None:
    """The id below which every group of ``stream`` has acknowledged every entry; None when it has no group.

    Parameters
    ----------
    link : RedisLink
        The connection.
    stream : str
        The stream key.

    Returns
    -------
    str or None
        The bound (entries with smaller ids may be trimmed), or None (trim nothing).
    """
    groups = link.call("XINFO GROUPS", link.client.xinfo_groups, stream)
    if not groups:
        return None
    bounds = []
    for group in groups:
        bound = next_id(group["last-delivered-id"])
        pending = link.call("XPENDING", link.client.xpending, stream, group["name"])
        if pending["pending"] and id_key(pending["min"]) < id_key(bound):
            bound = pending["min"]
        bounds.append(bound)
    return min(bounds, key=id_key)


def trim_behind_groups(link: RedisLink, stream: str) -> int:
    """Trim ``stream`` (``XTRIM MINID ~``) below :func:`safe_trim_id`; return the number of entries removed."""
    bound = safe_trim_id(link, stream)
    if bound is None:
        return 0
    return int(link.call("XTRIM", link.client.xtrim, stream, minid=bound, approximate=True))
