#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the sold-codes store tests.
#
#   eval "$(tools/ci/postgres.sh)"          # start; exports KKT_TEST_POSTGRES and KKT_TEST_POSTGRES_DIR
#   cargo test --test it marking::store
#   tools/ci/postgres.sh stop "$KKT_TEST_POSTGRES_DIR"
#
# Installs PostgreSQL with apt-get when no server binaries are found (root only), creates a cluster
# in a temporary directory, listening on 127.0.0.1 on a free port with trust authentication, and
# prints the export lines on stdout (everything else goes to stderr). PostgreSQL refuses to run as
# root, so as root the cluster runs as the `postgres` user (created when missing).
set -euo pipefail

log() { echo "postgres.sh: $*" >&2; }

find_bin() {
    if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
        dirname "$(command -v pg_ctl)"
        return 0
    fi
    local d
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ]; then
            echo "$d"
            return 0
        fi
    done
    return 1
}

as_owner() {
    if [ "$(id -u)" = 0 ]; then
        if command -v runuser >/dev/null 2>&1; then
            runuser -u "$OWNER" -- "$@"
        else
            su "$OWNER" -s /bin/sh -c "$(printf '%q ' "$@")"
        fi
    else
        "$@"
    fi
}

if [ "${1:-}" = stop ]; then
    dir="${2:?usage: postgres.sh stop DIR}"
    bin="$(find_bin)" || { log "no pg_ctl"; exit 1; }
    OWNER="$(stat -c %U "$dir/data" 2>/dev/null || echo postgres)"
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
    rm -rf "$dir"
    exit 0
fi

if ! bin="$(find_bin)"; then
    if [ "$(id -u)" != 0 ]; then
        log "PostgreSQL server binaries not found and not root: install postgresql"
        exit 1
    fi
    log "installing postgresql"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update >&2
    apt-get install -y --no-install-recommends postgresql >&2
    bin="$(find_bin)" || { log "postgresql installed but pg_ctl not found"; exit 1; }
fi

OWNER="$(id -un)"
if [ "$(id -u)" = 0 ]; then
    OWNER=postgres
    if ! id postgres >/dev/null 2>&1; then
        useradd --system --no-create-home --shell /bin/sh postgres >&2
    fi
fi

port=""
for p in $(seq 54320 54420); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
        port=$p
        break
    fi
done
[ -n "$port" ] || { log "no free port in 54320-54420"; exit 1; }

dir="$(mktemp -d "${TMPDIR:-/tmp}/kkt-pg.XXXXXX")"
chmod 755 "$dir"
[ "$(id -u)" = 0 ] && chown "$OWNER" "$dir"
as_owner "$bin/initdb" -D "$dir/data" -U kkt -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    exit 1
}
as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/data/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off" start >&2
log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (data in $dir)"
echo "export KKT_TEST_POSTGRES=postgres://kkt@127.0.0.1:$port/postgres"
echo "export KKT_TEST_POSTGRES_DIR=$dir"
