"""TCP_NODELAY for the dashboard's connections.

Streamlit 1.67 binds its listening socket itself (`socket.socket(family)`, so
`proto` is 0) and hands it to uvicorn. Accepted sockets inherit that `proto`,
and asyncio turns Nagle's algorithm off only for sockets that report
IPPROTO_TCP; every keep-alive request after a connection's first then waits
about 40 ms for the browser's delayed ACK (61 script files on a first visit, and
the websocket's small frames). The same bug in uvicorn: Kludex/uvicorn#3149.
Re-wrapping the bound socket's descriptor lets Python read the protocol back
from the kernel (SO_PROTOCOL), so asyncio sets TCP_NODELAY on each connection.
"""

from __future__ import annotations

import functools
import socket


def _with_protocol(bind):
    @functools.wraps(bind)
    def bind_socket(*args, **kwargs) -> socket.socket:
        bound = bind(*args, **kwargs)
        if bound.family not in (socket.AF_INET, socket.AF_INET6) or bound.proto == socket.IPPROTO_TCP:
            return bound
        sock = socket.socket(fileno=bound.detach())  # family, type and proto from the kernel
        sock.setblocking(False)
        sock.set_inheritable(True)
        return sock

    bind_socket.wrapped_for_nodelay = True
    return bind_socket


def install() -> bool:
    """Wrap Streamlit's socket binding once; False if this Streamlit has no such hook."""
    try:
        from streamlit.web.server.starlette import starlette_server
    except ImportError:
        return False
    bind = getattr(starlette_server, "_bind_socket", None)
    if bind is None:
        return False
    if not getattr(bind, "wrapped_for_nodelay", False):
        starlette_server._bind_socket = _with_protocol(bind)
    return True
