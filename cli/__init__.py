"""Upscope's command line without a window: exports, listings, and the checks done
before the window opens. `app.py` parses the arguments and hands them here.

Exit codes: 0 success, 2 a usage error (bad option, unknown method, bad scale, an output
that exists without ``--force``), 1 an input that cannot be read or an output that cannot
be written, 1 when the window is asked for where there is no display, and 128 + the
signal's number when stopped by SIGINT (130, Ctrl+C), SIGHUP (129) or SIGTERM (143), with
no partial file left. Messages go to stderr, one line each, and name the file or value.
"""

EXIT_OK, EXIT_INPUT, EXIT_USAGE = 0, 1, 2
EXIT_NO_DISPLAY = 1
