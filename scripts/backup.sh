#!/usr/bin/env bash
# Back up the CRM: the PostgreSQL database (pg_dump, custom format) and, when MEDIA_ROOT is set,
# the uploaded files. Safe while the CRM runs (pg_dump reads one consistent snapshot).
#
#   DATABASE_URL=postgres://crm@db.internal:5432/crm MEDIA_ROOT=/srv/crm/media scripts/backup.sh /backups
#
# Writes DIRECTORY/crm-<UTC time>.dump (and media-<UTC time>.tar.gz) and prints the dump's path.
# Restore with scripts/restore.sh.
set -euo pipefail
dest=${1:?usage: scripts/backup.sh DIRECTORY}
: "${DATABASE_URL:?set DATABASE_URL to the database to back up}"
command -v pg_dump >/dev/null || { echo "pg_dump not found: apt-get install postgresql-client" >&2; exit 1; }
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$dest"
umask 077  # a dump holds every customer's data
pg_dump --format=custom --no-owner --no-privileges --file "$dest/crm-$stamp.dump" "$DATABASE_URL"
if [ -n "${MEDIA_ROOT:-}" ] && [ -d "$MEDIA_ROOT" ]; then
  tar -C "$MEDIA_ROOT" -czf "$dest/media-$stamp.tar.gz" .
fi
echo "$dest/crm-$stamp.dump"
