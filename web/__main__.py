"""`python -m web run app.py [flags]`: Streamlit's own command line, with
TCP_NODELAY on every connection (web/tcp.py). Streamlit binds its socket
before it imports app.py, so the fix has to be in place first; serve.py (make
run, the container), the browser tests and the benchmarks all start the app
this way."""
import sys

from web import tcp

tcp.install()

from streamlit.web.cli import main  # noqa: E402 - after the socket hook is in place

sys.exit(main(prog_name="streamlit"))
