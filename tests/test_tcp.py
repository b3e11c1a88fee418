"""web/tcp.py: connections accepted on Streamlit's own listening socket get TCP_NODELAY."""

import asyncio
import socket
import subprocess
import sys

from streamlit.web.server.starlette import starlette_server

from tests.conftest import ROOT
from web import tcp


def nodelay_of_an_accepted_connection(bind) -> int:
    """Bind like Streamlit does, accept one connection through asyncio (as uvicorn
    does), and read TCP_NODELAY off the server side of that connection."""
    sock = bind("127.0.0.1", 0, 8)

    async def main() -> int:
        loop = asyncio.get_running_loop()
        seen = loop.create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport):
                server_side = transport.get_extra_info("socket")
                seen.set_result(server_side.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await loop.create_server(Probe, sock=sock)
        _, writer = await asyncio.open_connection("127.0.0.1", sock.getsockname()[1])
        try:
            return await asyncio.wait_for(seen, 10)
        finally:
            writer.close()
            server.close()
            await server.wait_closed()

    return asyncio.run(main())


def original_bind():
    bind = starlette_server._bind_socket
    return getattr(bind, "__wrapped__", bind)


def test_streamlits_own_binding_leaves_nagle_on():
    """The bug web/tcp.py works around. When this fails, Streamlit has fixed it:
    delete web/tcp.py and its call in app.py."""
    assert nodelay_of_an_accepted_connection(original_bind()) == 0


def test_the_wrapped_binding_gives_every_connection_tcp_nodelay():
    assert tcp.install()
    assert tcp.install()  # idempotent: wraps once
    assert starlette_server._bind_socket.__wrapped__ is original_bind()
    assert nodelay_of_an_accepted_connection(starlette_server._bind_socket) != 0


def test_the_launcher_serves_connections_with_tcp_nodelay(tmp_path):
    """`python -m web` (what serve.py starts) installs the hook before Streamlit
    binds: in a child that runs the launcher, Streamlit's binding yields a
    socket that reports IPPROTO_TCP, the condition for asyncio's TCP_NODELAY."""
    code = (
        "import runpy, sys; sys.argv = ['streamlit', '--version']\n"
        "try:\n    runpy.run_module('web', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "from streamlit.web.server.starlette import starlette_server as s\n"
        "sock = s._bind_socket('127.0.0.1', 0, 8)\n"
        "import socket; assert sock.proto == socket.IPPROTO_TCP, sock.proto\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)
