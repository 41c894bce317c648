#!/usr/bin/env bash
# Bring up what FreshChain needs on this Debian/Ubuntu machine, idempotently:
#   - installs what is missing: PostGIS for the installed PostgreSQL major version,
#     GDAL/GEOS/PROJ (GeoDjango), Redis, gettext (translations), python3-venv;
#     with --browser (the tests) also Chromium and CJK fonts for the browser tests and
#     Prometheus, whose promtool checks deploy/prometheus/alerts.yml, with --bench
#     wrk, the HTTP load generator of the benchmarks, with --cluster nginx and PgBouncer, which
#     `make cluster` runs as this user (deploy/);
#   - starts PostgreSQL and Redis if they are down;
#   - creates the database with the PostGIS extension and its two roles: the owner, which
#     migrations run as, and the application's role, which the web processes, workers and
#     beat connect as, with only the rights `migrate` grants it (common/db_roles.py).
# Works where PostgreSQL trusts local connections and where it uses Debian's default
# peer (socket) and password (TCP) authentication.
# Settings: FRESHCHAIN_DB_NAME, FRESHCHAIN_DB_USER, FRESHCHAIN_DB_PASSWORD (the owner; defaults
# freshchain), FRESHCHAIN_DB_APP_USER, FRESHCHAIN_DB_APP_PASSWORD (defaults freshchain_app).
set -euo pipefail

DB_NAME=${FRESHCHAIN_DB_NAME:-freshchain}
DB_USER=${FRESHCHAIN_DB_USER:-freshchain}
DB_PASSWORD=${FRESHCHAIN_DB_PASSWORD:-freshchain}
APP_USER=${FRESHCHAIN_DB_APP_USER:-freshchain_app}
APP_PASSWORD=${FRESHCHAIN_DB_APP_PASSWORD:-freshchain_app}
extra_packages=()
for arg in "$@"; do
  case "$arg" in
    --browser) extra_packages+=(chromium fonts-noto-cjk prometheus) ;;
    --bench) extra_packages+=(wrk) ;;
    --cluster) extra_packages+=(nginx pgbouncer) ;;
    *) echo "usage: scripts/services.sh [--browser] [--bench] [--cluster]" >&2; exit 2 ;;
  esac
done

say() { printf 'services: %s\n' "$*"; }
die() { printf 'services: %s\n' "$*" >&2; exit 1; }

is_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

apt_updated=no
apt_install() {
  [ "$#" -gt 0 ] || return 0
  if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" -ne 0 ]; then
    die "please install these packages first (as root: apt-get install $*), then run this again."
  fi
  if [ "$apt_updated" = no ]; then
    say "apt-get update"
    apt-get update -qq || die "apt-get update failed; check the package sources, then run this again."
    apt_updated=yes
  fi
  say "installing $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
    || die "apt-get install $* failed; install them by hand, then run this again."
}

command -v dpkg-query >/dev/null 2>&1 \
  || die "this script needs a Debian or Ubuntu machine; elsewhere install PostgreSQL with PostGIS, GDAL, Redis and gettext yourself."

# PostgreSQL itself first: the PostGIS package name depends on its major version.
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  apt_install postgresql postgresql-contrib
fi
PG_MAJOR=$(ls /usr/lib/postgresql | sort -n | tail -n 1)

missing=()
for pkg in "postgresql-${PG_MAJOR}-postgis-3" gdal-bin libgdal-dev libgeos-dev proj-bin \
           redis-server gettext; do
  is_installed "$pkg" || missing+=("$pkg")
done
python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
for pkg in "${extra_packages[@]}"; do is_installed "$pkg" || missing+=("$pkg"); done
apt_install "${missing[@]}"

# Start PostgreSQL if it is down.
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  say "starting PostgreSQL ${PG_MAJOR}"
  [ -d "/etc/postgresql/${PG_MAJOR}/main" ] || pg_createcluster "${PG_MAJOR}" main >/dev/null
  pg_ctlcluster --skip-systemctl-redirect "${PG_MAJOR}" main start 2>/dev/null \
    || pg_ctlcluster "${PG_MAJOR}" main start 2>/dev/null \
    || service postgresql start >/dev/null 2>&1 || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  pg_isready -q -h 127.0.0.1 -p 5432 || die "PostgreSQL did not start; start it (pg_ctlcluster ${PG_MAJOR} main start) and run this again."
fi

# Start Redis if it is down.
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  say "starting Redis"
  service redis-server start >/dev/null 2>&1 \
    || redis-server --daemonize yes --bind 127.0.0.1 --port 6379 >/dev/null
  for _ in $(seq 1 15); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || die "Redis did not start; start redis-server and run this again."
fi

# A superuser psql: over the socket as the postgres user (peer or trust), else TCP as postgres.
as_superuser() {
  if [ "$(id -u)" -eq 0 ] && id postgres >/dev/null 2>&1; then
    (cd / && runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 "$@")
  else
    psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres -w "$@"
  fi
}
as_superuser -d postgres -c 'SELECT 1' >/dev/null 2>&1 \
  || die "cannot reach PostgreSQL as its superuser; run this as root, or allow 'postgres' to connect on 127.0.0.1."

as_superuser -d postgres <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${DB_USER}') THEN
    CREATE ROLE "${DB_USER}" LOGIN CREATEDB PASSWORD '${DB_PASSWORD}';
  ELSE
    ALTER ROLE "${DB_USER}" LOGIN CREATEDB PASSWORD '${DB_PASSWORD}';
  END IF;
  -- The application's role owns nothing and may create nothing: no DDL, and on the ledger's
  -- postings and journal entries no UPDATE or DELETE (granted by migrate, as the owner).
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${APP_USER}') THEN
    CREATE ROLE "${APP_USER}" LOGIN NOCREATEDB NOCREATEROLE PASSWORD '${APP_PASSWORD}';
  ELSE
    ALTER ROLE "${APP_USER}" LOGIN NOCREATEDB NOCREATEROLE NOSUPERUSER PASSWORD '${APP_PASSWORD}';
  END IF;
END
\$\$;
SQL
if [ "$(as_superuser -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '${DB_NAME}'")" != 1 ]; then
  say "creating database ${DB_NAME}"
  as_superuser -d postgres -c "CREATE DATABASE \"${DB_NAME}\" OWNER \"${DB_USER}\""
fi
# PostGIS in the database and in template1, so test databases (created by the app's
# role, which is not a superuser) have it too.
for db in "${DB_NAME}" template1; do
  as_superuser -d "$db" -c 'CREATE EXTENSION IF NOT EXISTS postgis' 2>&1 | grep -v 'already exists' || true
done

say "PostgreSQL ${PG_MAJOR} with PostGIS and Redis are up; database ${DB_NAME} belongs to ${DB_USER}; the application connects as ${APP_USER}."
