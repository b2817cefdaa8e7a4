"""The embedded database of `make run`: a private PostgreSQL under var/, started on demand.

    python scripts/embedded_postgres.py start var/postgres   # prints its DATABASE_URL
    python scripts/embedded_postgres.py stop var/postgres

The server binaries come from the pgserver wheel (requirements-dev.txt), so a newcomer
needs no installed server, no system service and no configuration. It listens on a Unix
socket only (no port to collide with), keeps its data between runs, and is run as an
unprivileged user when the command runs as root, as PostgreSQL requires.
"""

import sys
import warnings
from pathlib import Path
from urllib.parse import quote

# pgserver keeps its lock file in the user's runtime folder, or /tmp when there is none.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR", module="platformdirs")
import pgserver  # noqa: E402

DATABASE = "peersupport"


def start(pgdata: Path) -> str:
    """Start the server if it is not running, make sure the database exists, and
    return the DATABASE_URL that reaches it."""
    pgdata.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(pgdata, cleanup_mode=None)  # left running for the app
    exists = server.psql("SELECT 1 FROM pg_database WHERE datname = 'peersupport';")
    if "(1 row)" not in exists:
        server.psql("CREATE DATABASE peersupport;")
    socket_dir = server.get_postmaster_info().socket_dir
    # django-environ takes a socket directory from the path, percent-encoded.
    return f"postgres://postgres@/{quote(str(socket_dir), safe='')}/{DATABASE}"


def stop(pgdata: Path) -> None:
    """A fast shutdown: open connections are closed, committed data is kept."""
    if not (pgdata / "postmaster.pid").exists():
        return
    # The server runs as the user pgserver chose when it started it (root cannot).
    owner = (pgdata / "postmaster.pid").owner()
    pgserver.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=owner)


if __name__ == "__main__":
    command, directory = sys.argv[1], Path(sys.argv[2]).resolve()
    if command == "start":
        print(start(directory))
    elif command == "stop":
        stop(directory)
    else:
        sys.exit(f"usage: {sys.argv[0]} start|stop DIRECTORY")
