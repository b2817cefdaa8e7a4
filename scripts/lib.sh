# Shared steps for scripts/run and scripts/test. Sourced, not executed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PROJECT_DIR="$(pwd)"
VENV="$PROJECT_DIR/.venv"
PYTHON_BIN="${PYTHON:-python3}"

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=0
ensure_debian_packages() {
  # ensure_debian_packages COMMAND:PACKAGE ... installs each package whose command is missing.
  local missing=()
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "Please install: ${missing[*]}" >&2
    return 1
  fi
  echo "Installing ${missing[*]} from Debian's packages..."
  if [ "$apt_updated" = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_venv() {
  # ensure_venv REQUIREMENTS_FILE: a virtualenv with exactly those pins, reinstalled on change.
  local requirements="$1"
  if ! "$PYTHON_BIN" -c "import venv, ensurepip" >/dev/null 2>&1; then
    ensure_debian_packages "false:python3-venv"
  fi
  [ -x "$VENV/bin/python" ] || "$PYTHON_BIN" -m venv "$VENV"
  local stamp="$VENV/.installed-$(basename "$requirements")"
  local digest
  digest="$(cat requirements*.txt | sha256sum | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    echo "$digest" > "$stamp"
  fi
  export PATH="$VENV/bin:$PATH"
}

compile_messages() {
  ensure_debian_packages "msgfmt:gettext"
  python manage.py compilemessages --ignore=.venv --ignore=node_modules -v0
}

ensure_postgres_running() {
  local host="${1:-127.0.0.1}"
  command -v pg_isready >/dev/null 2>&1 || { echo "PostgreSQL is not installed." >&2; return 1; }
  pg_isready -q -h "$host" && return 0
  echo "Starting PostgreSQL..."
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    for version in $(ls /etc/postgresql); do
      as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    done
  else
    as_root service postgresql start || true
  fi
  for _ in $(seq 1 30); do pg_isready -q -h "$host" && return 0; sleep 1; done
  echo "PostgreSQL did not start." >&2
  return 1
}

ensure_redis_running() {
  command -v redis-server >/dev/null 2>&1 || { echo "Redis is not installed." >&2; return 1; }
  redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && return 0
  echo "Starting Redis..."
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
    --appendonly no --dir /var/lib/redis --logfile /var/log/redis/peersupport.log
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && return 0; sleep 1; done
  echo "Redis did not start." >&2
  return 1
}
