#!/usr/bin/env bash
# PostgreSQL backup (infrastructure design §3.4): a plain-SQL pg_dump named
# backup_YYYYmmdd_HHMMSS.sql, gzipped, with backups older than RETENTION_DAYS removed.
# Managed Azure Database for PostgreSQL already keeps automatic backups; this covers self-hosted
# and development databases and ad-hoc copies before risky migrations.
#
# Usage: backup.sh [--dir DIR] [--retention-days N] [--database-url URL]
# Environment (flags win): BACKUP_DIR (default ./backups), RETENTION_DAYS (default 7),
# DATABASE_URL (SQLAlchemy's postgresql+asyncpg:// form accepted), or the usual PG* variables.
# Cron example: 15 3 * * * app /opt/camp-backend/backup.sh --dir /var/backups/camp-backend
set -euo pipefail

backup_dir="${BACKUP_DIR:-./backups}"
retention_days="${RETENTION_DAYS:-7}"
database_url="${DATABASE_URL:-}"

while [[ $# -gt 0 ]]; do
  case "$1" in
    --dir) backup_dir="$2"; shift 2 ;;
    --retention-days) retention_days="$2"; shift 2 ;;
    --database-url) database_url="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "backup.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

if ! [[ "$retention_days" =~ ^[0-9]+$ ]]; then
  echo "backup.sh: --retention-days must be a whole number of days, got '$retention_days'" >&2
  exit 2
fi
command -v pg_dump >/dev/null || { echo "backup.sh: pg_dump not found" >&2; exit 1; }

# Dumps contain every user's data: readable by the backup owner only.
umask 077
mkdir -p "$backup_dir"

name="backup_$(date +%Y%m%d_%H%M%S).sql.gz"
target="$backup_dir/$name"
partial="$target.partial"
trap 'rm -f "$partial"' EXIT

dump_args=(--no-owner --no-privileges)
if [[ -n "$database_url" ]]; then
  # pg_dump does not understand driver suffixes such as +asyncpg.
  dump_args+=("--dbname=$(sed -E 's#^postgres(ql)?(\+[a-z0-9_]+)?://#postgresql://#' <<<"$database_url")")
fi

# Write to a partial file first so a failed dump never looks like a good backup.
pg_dump "${dump_args[@]}" | gzip -9 > "$partial"
gzip -t "$partial"
mv "$partial" "$target"
echo "backup written: $target ($(wc -c < "$target") bytes)"

if [[ "$retention_days" -gt 0 ]]; then
  find "$backup_dir" -maxdepth 1 -type f -name 'backup_*.sql.gz' -mtime "+$retention_days" -print -delete |
    sed 's/^/removed old backup: /'
fi
