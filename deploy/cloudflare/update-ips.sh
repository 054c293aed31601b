#!/usr/bin/env bash
# Refreshes deploy/cloudflare/ips.txt from CloudFlare's published lists and stamps today's date.
# Refuses to write an empty or malformed list (a failed download must never empty the trust list).
#   bash deploy/cloudflare/update-ips.sh
set -euo pipefail

out="$(cd "$(dirname "$0")" && pwd)/ips.txt"
tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT

v4="$(curl -fsS --max-time 20 https://www.cloudflare.com/ips-v4)"
v6="$(curl -fsS --max-time 20 https://www.cloudflare.com/ips-v6)"
{
  echo "# CloudFlare's proxy address ranges: the peers whose CF-Connecting-IP the app may believe."
  echo "# Source: https://www.cloudflare.com/ips-v4 and https://www.cloudflare.com/ips-v6"
  echo "# Updated: $(date -u +%Y-%m-%d) (by deploy/cloudflare/update-ips.sh)."
  echo "# Use: TRUSTED_PROXIES_FILE=/opt/camp-backend/cloudflare-ips.txt (one CIDR per line, '#' comments),"
  echo "#   or TRUSTED_PROXIES=\$(grep -v '^#' deploy/cloudflare/ips.txt | paste -sd, -)"
  printf '%s\n%s\n' "$v4" "$v6" | sed '/^\s*$/d'
} >"$tmp"
python3 - "$tmp" <<'PY'
import ipaddress, sys
nets = [l.strip() for l in open(sys.argv[1]) if l.strip() and not l.startswith("#")]
if len(nets) < 10:
    sys.exit(f"only {len(nets)} ranges downloaded; refusing to write")
for n in nets:
    ipaddress.ip_network(n)
PY
mv "$tmp" "$out"
trap - EXIT
echo "wrote $out"
