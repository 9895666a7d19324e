#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh into an EMPTY database (create it first:
# createdb -O crm crm_restored), and the uploaded files into MEDIA_ROOT when a media archive is given.
#
#   DATABASE_URL=postgres://crm@db.internal:5432/crm_restored scripts/restore.sh crm-20261203T120000Z.dump \
#       [media-20261203T120000Z.tar.gz]
#
# Refuses a database that already has tables. All or nothing: one transaction, stops at the first error.
set -euo pipefail
dump=${1:?usage: scripts/restore.sh DUMP [MEDIA_ARCHIVE]}
media=${2:-}
: "${DATABASE_URL:?set DATABASE_URL to the empty database to restore into}"
command -v pg_restore >/dev/null || { echo "pg_restore not found: apt-get install postgresql-client" >&2; exit 1; }
tables=$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
if [ "$tables" != "0" ]; then
  echo "Refusing to restore: the target database is not empty ($tables tables)." >&2
  exit 1
fi
pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --dbname "$DATABASE_URL" "$dump"
if [ -n "$media" ]; then
  : "${MEDIA_ROOT:?set MEDIA_ROOT to restore the uploaded files}"
  mkdir -p "$MEDIA_ROOT"
  tar -C "$MEDIA_ROOT" -xzf "$media"
fi
echo "Restored $dump. Next: DATABASE_URL=... python manage.py migrate (for a newer release) and check_deal_totals."
