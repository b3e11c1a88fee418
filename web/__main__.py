"""`python -m web run app.py [flags]`: Streamlit's own command line, with
TCP_NODELAY on every connection (web/tcp.py) and the environment pinned so that
it keeps precedence over secrets.toml (db.settings.pin_environment). Streamlit
binds its socket before it imports app.py, so both must happen first; serve.py
(make run, the container), the browser tests and the benchmarks all start the
app this way."""

import sys

from db.settings import pin_environment
from web import tcp

tcp.install()
pin_environment()  # Streamlit copies secrets.toml into os.environ, over the operator's variables

from streamlit.web.cli import main  # noqa: E402 - after the socket hook is in place

sys.exit(main(prog_name="streamlit"))
