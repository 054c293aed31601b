#!/usr/bin/env bash
# Validates the operational artefacts in deploy/ and the Dockerfile with whatever tools this
# machine has. A missing tool is reported as SKIP; only a real problem makes the exit status
# non-zero. Set VALIDATE_INSTALL=0 to never apt-get install a missing nginx/promtool.
#
#   bash deploy/validate.sh
set -uo pipefail

deploy_dir="$(cd "$(dirname "$0")" && pwd)"
repo_dir="$(dirname "$deploy_dir")"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0
skipped=0
pass() { echo "PASS  $1"; passed=$((passed + 1)); }
fail() { echo "FAIL  $1"; failed=$((failed + 1)); }
skip() { echo "SKIP  $1"; skipped=$((skipped + 1)); }

# Runs a check; its output is shown only when it fails.
check() {
  local name="$1"
  shift
  if "$@" >"$tmp/out" 2>&1; then
    pass "$name"
  else
    fail "$name"
    sed 's/^/      /' "$tmp/out"
  fi
}

apt_updated=0
# Installs a Debian package when allowed and possible; returns non-zero otherwise.
try_install() {
  [[ "${VALIDATE_INSTALL:-1}" == "1" ]] || return 1
  [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null || return 1
  if [[ $apt_updated == 0 ]]; then
    apt-get update -qq >/dev/null 2>&1 || return 1
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1
}

echo "== nginx"
command -v nginx >/dev/null || try_install nginx || true
if command -v nginx >/dev/null; then
  openssl req -x509 -nodes -newkey rsa:2048 -days 1 -subj "/CN=api.example.com" \
    -keyout "$tmp/privkey.pem" -out "$tmp/fullchain.pem" >/dev/null 2>&1
  mkdir -p "$tmp/nginx"
  sed -e "s#/etc/letsencrypt/live/api.example.com/#$tmp/#g" \
    "$deploy_dir/nginx/camp-backend.conf" >"$tmp/nginx/site.conf"
  cat >"$tmp/nginx/nginx.conf" <<EOF
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
events {}
http {
    access_log off;
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    include $tmp/nginx/site.conf;
}
EOF
  check "nginx -t (site with a self-signed test certificate)" \
    nginx -t -q -p "$tmp/nginx" -e "$tmp/nginx/error.log" -c "$tmp/nginx/nginx.conf"
else
  skip "nginx -t: nginx not installed and could not be installed"
fi

echo "== prometheus"
command -v promtool >/dev/null || try_install prometheus || true
if command -v promtool >/dev/null; then
  check "promtool check config prometheus.yml" promtool check config "$deploy_dir/prometheus/prometheus.yml"
  check "promtool check config prometheus.compose.yml" \
    promtool check config "$deploy_dir/prometheus/prometheus.compose.yml"
  check "promtool check rules alerts.yml" promtool check rules "$deploy_dir/prometheus/alerts.yml"
  # The dashboard's queries go through the same PromQL parser as recording rules.
  if python3 - "$deploy_dir/grafana/camp-backend.json" >"$tmp/dashboard-rules.yml" <<'EOF'
import json, sys
exprs = [t["expr"] for p in json.load(open(sys.argv[1]))["panels"] for t in p.get("targets", []) if t.get("expr")]
print("groups:\n  - name: dashboard\n    rules:")
for i, e in enumerate(exprs):
    print(f"      - record: dashboard:query_{i}\n        expr: {json.dumps(e)}")
EOF
  then
    check "promtool parses every Grafana dashboard query" promtool check rules "$tmp/dashboard-rules.yml"
  else
    fail "could not extract the dashboard queries"
  fi
else
  skip "promtool: not installed and could not be installed (apt package prometheus)"
fi

echo "== grafana"
check "dashboard JSON is well-formed (python3 -m json.tool)" \
  python3 -m json.tool "$deploy_dir/grafana/camp-backend.json"
check "dashboard has the seed's four panels" python3 - "$deploy_dir/grafana/camp-backend.json" <<'EOF'
import json, sys
exprs = {t.get("expr", "") for p in json.load(open(sys.argv[1]))["panels"] for t in p.get("targets", [])}
wanted = [
    "rate(http_requests_total[5m])",
    "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))",
    "sum by (status) (rate(http_requests_total[5m]))",
    "db_connections_active",
]
missing = [w for w in wanted if w not in exprs]
if missing:
    sys.exit(f"missing panel queries: {missing}")
EOF

echo "== systemd"
if command -v systemd-analyze >/dev/null; then
  # The binary is not installed here; point ExecStart at an executable so only the unit is judged.
  sed 's#^ExecStart=/opt/camp-backend/camp-backend#ExecStart=/bin/true#' \
    "$deploy_dir/systemd/camp-backend.service" >"$tmp/camp-backend.service"
  verify_unit() {
    local out
    out="$(systemd-analyze verify "$tmp/camp-backend.service" 2>&1)" || { echo "$out"; return 1; }
    [[ -z "$out" ]] || { echo "$out"; return 1; }
  }
  check "systemd-analyze verify camp-backend.service" verify_unit
else
  skip "systemd-analyze: not available"
fi
check "unit stops later than the app's drain (TimeoutStopSec > SHUTDOWN_TIMEOUT_S + 5)" \
  bash -c "t=\$(sed -n 's/^TimeoutStopSec=\([0-9]*\).*/\1/p' '$deploy_dir/systemd/camp-backend.service'); [[ \${t:-0} -gt 35 ]]"

echo "== defaults that survive faults (issue 13)"
# NODE_ENV=production and WORKERS >= 2 in every shipped deployment file; Bun's header limit raised.
check "Dockerfile sets NODE_ENV=production, WORKERS>=2, BUN_OPTIONS header limit" bash -c '
  f="$1"
  grep -Eq "NODE_ENV=production" "$f" &&
  [[ $(sed -nE "s/.*WORKERS=([0-9]+).*/\1/p" "$f" | head -n1) -ge 2 ]] &&
  grep -Eq "BUN_OPTIONS=--max-http-header-size=[0-9]+" "$f"' _ "$repo_dir/Dockerfile"
check "systemd unit sets NODE_ENV=production, WORKERS>=2, BUN_OPTIONS header limit" bash -c '
  f="$1"
  grep -Eq "^Environment=NODE_ENV=production$" "$f" &&
  [[ $(sed -nE "s/^Environment=WORKERS=([0-9]+)$/\1/p" "$f") -ge 2 ]] &&
  grep -Eq "^Environment=BUN_OPTIONS=--max-http-header-size=[0-9]+$" "$f"' _ "$deploy_dir/systemd/camp-backend.service"
check "compose app sets NODE_ENV=production, WORKERS>=2, BUN_OPTIONS header limit" bash -c '
  f="$1"
  grep -Eq "^ +NODE_ENV: production$" "$f" &&
  [[ $(sed -nE "s/^ +WORKERS: \"?([0-9]+)\"?$/\1/p" "$f") -ge 2 ]] &&
  grep -Eq "^ +BUN_OPTIONS: --max-http-header-size=[0-9]+$" "$f"' _ "$deploy_dir/docker-compose.yml"
check ".env.production.example sets NODE_ENV=production, WORKERS>=2" bash -c '
  f="$1"
  grep -Eq "^NODE_ENV=production$" "$f" && [[ $(sed -nE "s/^WORKERS=([0-9]+)$/\1/p" "$f") -ge 2 ]]' \
  _ "$repo_dir/.env.production.example"

echo "== shell scripts"
for script in "$deploy_dir"/scripts/*.sh "$deploy_dir/validate.sh"; do
  check "bash -n ${script#"$repo_dir"/}" bash -n "$script"
done
command -v shellcheck >/dev/null || try_install shellcheck || true
if command -v shellcheck >/dev/null; then
  for script in "$deploy_dir"/scripts/*.sh "$deploy_dir/validate.sh"; do
    check "shellcheck ${script#"$repo_dir"/}" shellcheck -S warning "$script"
  done
else
  skip "shellcheck: not installed and could not be installed"
fi

echo "== docker-compose"
if command -v docker-compose >/dev/null; then
  check "docker-compose config" docker-compose -f "$deploy_dir/docker-compose.yml" \
    --profile app --profile monitoring config -q
elif docker compose version >/dev/null 2>&1; then
  check "docker compose config" docker compose -f "$deploy_dir/docker-compose.yml" \
    --profile app --profile monitoring config -q
else
  check "docker-compose.yml parses as YAML (no compose CLI here)" \
    python3 -c "import sys, yaml; yaml.safe_load(open(sys.argv[1]))" "$deploy_dir/docker-compose.yml"
fi

echo "== Dockerfile"
check "Dockerfile: non-root user, exec-form healthcheck/entrypoint, pinned bases" bash -c '
  f="$1"
  grep -q "^USER nonroot" "$f" || { echo "no USER nonroot"; exit 1; }
  grep -q "CMD \[\"/app/camp-backend\", \"healthcheck\"\]" "$f" || { echo "no binary healthcheck"; exit 1; }
  grep -q "^ENTRYPOINT \[" "$f" || { echo "ENTRYPOINT not in exec form"; exit 1; }
  ! grep -Eq "^FROM [^ ]+:latest" "$f" || { echo "base image pinned to :latest"; exit 1; }
' _ "$repo_dir/Dockerfile"
check "Dockerfile ships what the binary needs: worker entry, fonts, seed, migrations" bash -c '
  f="$1"
  grep -q "engine-pool/worker.ts" "$f" || { echo "parse worker entrypoint missing from the compile step"; exit 1; }
  grep -q "assets/fonts" "$f" || { echo "chart fonts not copied"; exit 1; }
  grep -q "/app/seed" "$f" || { echo "seed folder not copied"; exit 1; }
  grep -q "/app/drizzle" "$f" || { echo "migrations not copied"; exit 1; }
' _ "$repo_dir/Dockerfile"
if command -v hadolint >/dev/null; then
  check "hadolint Dockerfile" hadolint "$repo_dir/Dockerfile"
else
  skip "hadolint: not installed (not packaged for Debian or npm)"
fi
if docker info >/dev/null 2>&1; then
  check "docker build" docker build -q -t camp-backend:validate "$repo_dir"
else
  skip "docker build: no Docker daemon reachable"
fi
if command -v bun >/dev/null && [[ -f "$repo_dir/src/cli/main.ts" ]]; then
  # The same compile step as the Dockerfile, so a bundling problem shows up without Docker.
  check "bun build --compile src/cli/main.ts" bash -c '
    cd "$1" && bun build --compile --minify-whitespace --minify-syntax --target bun-linux-x64 \
      src/cli/main.ts --outfile "$2/camp-backend" >/dev/null && test -x "$2/camp-backend"
  ' _ "$repo_dir" "$tmp"
else
  skip "bun build --compile: bun or src/cli/main.ts missing"
fi

echo
echo "validate: ${passed} passed, ${failed} failed, ${skipped} skipped"
[[ $failed -eq 0 ]]
