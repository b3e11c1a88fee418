"""What every command line of ours (python -m db | queries | seed) does at its edges."""
from __future__ import annotations

import os
import sys
from typing import Callable, NoReturn


def entry(main: Callable[[], int]) -> NoReturn:
    """Run `main` and exit with its code. A reader that went away (`| head`) ends
    the output quietly with the shell's SIGPIPE status, and Ctrl-C says so in one
    line: neither is a traceback."""
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # Python would complain again flushing stdout at exit: point it at /dev/null.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 128 + 13
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        code = 130
    sys.exit(code)
