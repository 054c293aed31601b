#!/usr/bin/env bash
# Host firewall of infrastructure design §9.2 with ufw:
#   22/tcp    SSH          administrators' addresses only (--admin, repeatable; required)
#   80/tcp    HTTP         anyone (redirects to HTTPS; certbot's HTTP-01 challenge)
#   443/tcp   HTTPS        anyone
#   5432/tcp  PostgreSQL   internal network only (--internal, default 10.0.0.0/8)
#   6379/tcp  Redis        internal network only
# everything else inbound is denied; outbound is allowed.
#
#   sudo deploy/firewall/ufw.sh --admin 203.0.113.10/32 [--internal 10.0.0.0/16] [--dry-run]
#
# --dry-run prints the ufw commands instead of running them. Run it from a console session or
# with the admin address you are connected from, or it cuts your own SSH session.
set -euo pipefail

admins=()
internal="10.0.0.0/8"
dry_run=0
usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --admin) admins+=("${2:?--admin needs an address or CIDR}"); shift 2 ;;
    --internal) internal="${2:?--internal needs a CIDR}"; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "ufw.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
if [[ ${#admins[@]} -eq 0 ]]; then
  echo "ufw.sh: at least one --admin address is required (SSH is closed to everyone else)" >&2
  exit 2
fi
cidr='^[0-9a-fA-F:.]+(/[0-9]{1,3})?$'
for a in "${admins[@]}" "$internal"; do
  [[ $a =~ $cidr ]] || { echo "ufw.sh: '$a' is not an address or CIDR" >&2; exit 2; }
done

run() {
  if [[ $dry_run == 1 ]]; then
    printf 'ufw'
    printf ' %q' "$@"
    printf '\n'
  else
    ufw "$@"
  fi
}

run --force reset
run default deny incoming
run default allow outgoing
for a in "${admins[@]}"; do
  run allow from "$a" to any port 22 proto tcp comment "SSH (administrators)"
done
run allow 80/tcp comment "HTTP -> HTTPS redirect, ACME challenge"
run allow 443/tcp comment "HTTPS"
run allow from "$internal" to any port 5432 proto tcp comment "PostgreSQL (internal)"
run allow from "$internal" to any port 6379 proto tcp comment "Redis (internal)"
run --force enable
run status verbose
