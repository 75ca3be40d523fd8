# Shared by the scripts: where things live and how to install Debian packages when missing.
# shellcheck shell=bash
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL="$ROOT/.local"
PG_PORT="${AGENTCRM_PG_PORT:-55432}"
REDIS_PORT="${AGENTCRM_REDIS_PORT:-56379}"
PG_VERSION=15
PG_BIN="/usr/lib/postgresql/$PG_VERSION/bin"

log() { printf '[agentcrm] %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    log "need root to run: $*"; return 1; fi
}

APT_UPDATED=""
apt_install() {
  # Installs Debian packages that are missing; apt-get update runs once, only when something is needed.
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]} from Debian packages"
  if [ -z "$APT_UPDATED" ]; then as_root apt-get update -qq >/dev/null; APT_UPDATED=1; fi
  # Debian's packages try to start their own services; ours run from project-local directories instead.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Runs a command as the owner of the PostgreSQL data directory (postgres refuses to run as root).
as_pg_user() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

random_secret() { head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32; }

# The local access-token signing key: made once, kept in .local/ (gitignored), never printed.
export_signing_key() {
  local file="$LOCAL/auth-signing-key"
  mkdir -p "$LOCAL"
  [ -f "$file" ] || { head -c 48 /dev/urandom | base64 -w0 > "$file"; chmod 600 "$file"; }
  Auth__SigningKey="$(cat "$file")"; export Auth__SigningKey
}
