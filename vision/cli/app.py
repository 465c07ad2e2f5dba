"""``vision app``: start the Streamlit demo apps (``streamlit run apps/Home.py``) with the current Python.

Where the apps are: they are Streamlit scripts in the repository's ``apps/`` folder, not part of the installed
``vision`` package (a wheel holds ``vision/`` only). :func:`find_apps` looks, in order, at ``--apps DIR``, the
environment variable ``VISION_APPS_DIR``, the folder beside the imported ``vision`` package (a source checkout or an
editable ``pip install -e .``), and ``./apps`` in the working directory; the first one holding ``Home.py`` wins.
A regular (non-editable) install run outside the checkout finds none and gets an error saying so.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from vision.errors import InputError, SourceNotFoundError

__all__ = ["APPS_ENV", "add_app_parser", "app_command", "cmd_app", "find_apps"]

#: environment variable naming the apps folder (the one holding Home.py)
APPS_ENV = "VISION_APPS_DIR"
HOME = "Home.py"


def _candidates(explicit: str | os.PathLike | None) -> list[tuple[str, Path]]:
    import vision

    if explicit is not None:
        return [("--apps", Path(explicit))]
    env = os.environ.get(APPS_ENV, "").strip()
    if env:
        return [(APPS_ENV, Path(env))]
    return [("beside the vision package", Path(vision.__file__).resolve().parents[1] / "apps"),
            ("the working directory", Path.cwd() / "apps")]


def find_apps(explicit: str | os.PathLike | None = None) -> Path:
    """The apps folder (with ``Home.py``): ``explicit``, ``$VISION_APPS_DIR``, beside the package, or ``./apps``.

    Raises:
        SourceNotFoundError: no candidate holds ``Home.py`` (the message lists where it looked and what to do).
    """
    tried = []
    for origin, folder in _candidates(explicit):
        if (folder / HOME).is_file():
            return folder.resolve()
        tried.append(f"{folder} ({origin})")
    raise SourceNotFoundError(
        f"the Streamlit apps ({HOME} and pages/) were not found; looked in: {'; '.join(tried)}. The apps ship with "
        f"the source repository, not the installed package: run from a clone installed with `pip install -e .`, "
        f"or pass --apps DIR / set {APPS_ENV}=DIR to the folder holding {HOME}")


def app_command(apps: Path, *, port: int = 8501, address: str = "127.0.0.1", headless: bool = True,
                extra: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The ``python -m streamlit run .../Home.py`` command line ``vision app`` runs."""
    if not 1 <= int(port) <= 65535:
        raise InputError(f"--port must be in 1..65535; got {port}")
    return [sys.executable, "-m", "streamlit", "run", str(Path(apps) / HOME),
            "--server.port", str(int(port)), "--server.address", address,
            "--server.headless", "true" if headless else "false",
            "--browser.gatherUsageStats", "false", *extra]


def cmd_app(args: argparse.Namespace) -> int:
    apps = find_apps(args.apps)
    cmd = app_command(apps, port=args.port, address=args.address, headless=not args.browser, extra=args.streamlit)
    if args.print_command:
        print(" ".join(cmd))
        return 0
    print(f"vision app: http://{args.address}:{args.port}  (apps from {apps}; Ctrl+C stops it)", flush=True)
    if args.address not in ("127.0.0.1", "localhost", "::1"):
        print(f"note: --address {args.address} makes the app reachable from other machines", flush=True)
    # the apps import their shared widget modules from apps/; run from the repository root like the docs say
    proc = subprocess.Popen(cmd, cwd=apps.parent)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        raise


def add_app_parser(sub: Any) -> None:
    """``vision app`` under the top-level sub-commands ``sub``."""
    s = sub.add_parser("app", help="start the Streamlit apps in the browser (streamlit run apps/Home.py)",
                       description="Start the Streamlit demo apps with this Python. The apps folder is --apps DIR, "
                                   f"${APPS_ENV}, the checkout holding the vision package, or ./apps.")
    s.add_argument("--port", type=int, default=8501, help="port to listen on (default 8501)")
    s.add_argument("--address", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 for everyone)")
    s.add_argument("--browser", action="store_true", help="open a browser tab too (default headless: print the URL)")
    s.add_argument("--apps", metavar="DIR", help=f"the folder holding {HOME} (default: found as described above)")
    s.add_argument("--print-command", action="store_true", help="print the streamlit command instead of running it")
    s.add_argument("streamlit", nargs="*", metavar="STREAMLIT_OPTION",
                   help="more `streamlit run` options after --, e.g. -- --theme.base dark")
    s.set_defaults(func=cmd_app)
