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
  # The balancer's upstream names resolve only inside compose; judge the syntax with loopback.
  sed -e 's/server app[12]:8000/server 127.0.0.1:8000/' "$deploy_dir/nginx/lb.conf" >"$tmp/nginx/site.conf"
  check "nginx -t (lb.conf, two-instance balancer)" \
    nginx -t -q -p "$tmp/nginx" -e "$tmp/nginx/error.log" -c "$tmp/nginx/nginx.conf"
else
  skip "nginx -t: nginx not installed and could not be installed"
fi
check "nginx site: 60 s timeouts, unbuffered chat stream, /static/, ACME challenge (§6.3, §9.1)" \
  python3 - "$deploy_dir/nginx/camp-backend.conf" <<'EOF'
import re, sys
conf = open(sys.argv[1]).read()
problems = []
for d in ("proxy_connect_timeout", "proxy_send_timeout", "proxy_read_timeout"):
    if not re.search(rf"^    {d} 60s;", conf, re.M):
        problems.append(f"server-level {d} is not 60s")
chat = re.search(r"location ~ \^/api/v1/project/\[\^/\]\+/analysis/session/\[\^/\]\+/chat\$ \{(.*?)\n    \}", conf, re.S)
if not chat:
    problems.append("no chat-stream location")
elif "proxy_buffering off;" not in chat.group(1):
    problems.append("chat-stream location is buffered")
if not re.search(r"location /static/ \{[^}]*alias /opt/camp-backend/static/;", conf):
    problems.append("no /static/ location")
if "/.well-known/acme-challenge/" not in conf:
    problems.append("no ACME challenge location")
if problems:
    sys.exit("\n".join(problems))
EOF

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

echo "== certbot renewal (§9.1)"
if command -v systemd-analyze >/dev/null; then
  mkdir -p "$tmp/certbot"
  sed 's#^ExecStart=/usr/bin/certbot .*#ExecStart=/bin/true#' \
    "$deploy_dir/certbot/certbot-renew.service" >"$tmp/certbot/certbot-renew.service"
  cp "$deploy_dir/certbot/certbot-renew.timer" "$tmp/certbot/"
  verify_certbot() {
    local out
    out="$(cd "$tmp/certbot" && systemd-analyze verify certbot-renew.service certbot-renew.timer 2>&1)" ||
      { echo "$out"; return 1; }
    [[ -z "$out" ]] || { echo "$out"; return 1; }
  }
  check "systemd-analyze verify certbot-renew.service + .timer" verify_certbot
else
  skip "systemd-analyze: not available"
fi
check "certbot renewal runs twice daily and reloads nginx through the deploy hook" bash -c '
  grep -q "^OnCalendar=" "$1/certbot-renew.timer" && grep -q "^Persistent=true" "$1/certbot-renew.timer" &&
  grep -q -- "--deploy-hook /etc/letsencrypt/renewal-hooks/deploy/reload-nginx.sh" "$1/certbot-renew.service" &&
  grep -q "systemctl reload nginx" "$1/reload-nginx.sh" && grep -q "nginx -t" "$1/reload-nginx.sh"' \
  _ "$deploy_dir/certbot"

echo "== firewall (§9.2)"
check "ufw.sh --dry-run opens exactly 22 (admins), 80, 443, 5432/6379 (internal)" bash -c '
  out="$(bash "$1" --admin 192.0.2.10/32 --internal 10.1.0.0/16 --dry-run)" || exit 1
  want=(
    "ufw default deny incoming"
    "ufw allow from 192.0.2.10/32 to any port 22 proto tcp"
    "ufw allow 80/tcp"
    "ufw allow 443/tcp"
    "ufw allow from 10.1.0.0/16 to any port 5432 proto tcp"
    "ufw allow from 10.1.0.0/16 to any port 6379 proto tcp"
    "ufw --force enable"
  )
  for w in "${want[@]}"; do grep -qF -- "$w" <<<"$out" || { echo "missing: $w"; echo "$out"; exit 1; }; done
  [[ $(grep -c "^ufw allow " <<<"$out") -eq 5 ]] || { echo "unexpected allow rules:"; echo "$out"; exit 1; }
  ! bash "$1" --dry-run >/dev/null 2>&1 || { echo "ran without --admin"; exit 1; }' _ "$deploy_dir/firewall/ufw.sh"
check "Azure NSG (ARM JSON) matches §9.2" python3 - "$deploy_dir/azure/nsg.json" <<'EOF'
import json, sys
t = json.load(open(sys.argv[1]))
assert t["$schema"].endswith("deploymentTemplate.json#"), "not an ARM deployment template"
nsg = [r for r in t["resources"] if r["type"] == "Microsoft.Network/networkSecurityGroups"]
assert len(nsg) == 1, "expected one NSG"
rules = {r["name"]: r["properties"] for r in nsg[0]["properties"]["securityRules"]}
def ports(p):
    return set(p.get("destinationPortRanges") or [p.get("destinationPortRange")])
allow = {n: p for n, p in rules.items() if p["access"] == "Allow" and p["direction"] == "Inbound"}
assert ports(allow["allow-ssh-admin"]) == {"22"}, "SSH rule"
assert "adminSourcePrefixes" in allow["allow-ssh-admin"]["sourceAddressPrefixes"], "SSH not limited to admins"
assert ports(allow["allow-http-https"]) == {"80", "443"}, "HTTP/HTTPS rule"
assert ports(allow["allow-postgres-redis-internal"]) == {"5432", "6379"}, "PostgreSQL/Redis rule"
assert allow["allow-postgres-redis-internal"]["sourceAddressPrefix"] == "[parameters('internalSourcePrefix')]"
assert t["parameters"]["internalSourcePrefix"]["defaultValue"] == "VirtualNetwork"
deny = [p for p in rules.values() if p["access"] == "Deny" and p["sourceAddressPrefix"] == "*" and p["destinationPortRange"] == "*"]
assert deny and all(deny[0]["priority"] > p["priority"] for p in allow.values()), "no final deny-all"
priorities = [p["priority"] for p in rules.values()]
assert len(set(priorities)) == len(priorities), "duplicate priorities"
EOF
if command -v az >/dev/null; then
  check "az bicep decompile parses the ARM template" \
    az bicep decompile --file "$deploy_dir/azure/nsg.json" --stdout
else
  skip "az CLI: not installed (ARM template checked structurally above)"
fi

echo "== CloudFlare and the load balancer"
check "cloudflare/ips.txt: dated, valid CIDRs, same ranges as the nginx site's set_real_ip_from" \
  python3 - "$deploy_dir/cloudflare/ips.txt" "$deploy_dir/nginx/camp-backend.conf" <<'EOF'
import ipaddress, re, sys
text = open(sys.argv[1]).read()
assert re.search(r"^# Updated: \d{4}-\d{2}-\d{2}", text, re.M), "no '# Updated: YYYY-MM-DD' line"
nets = [l.strip() for l in text.splitlines() if l.strip() and not l.startswith("#")]
assert len(nets) >= 10, "too few ranges"
for n in nets:
    ipaddress.ip_network(n)
nginx = re.findall(r"^set_real_ip_from ([^;]+);", open(sys.argv[2]).read(), re.M)
assert sorted(nginx) == sorted(nets), f"nginx and ips.txt differ: {sorted(set(nginx) ^ set(nets))}"
EOF
check "docker-compose.lb.yml: two app instances share one database, Redis and object store" \
  python3 - "$deploy_dir/docker-compose.lb.yml" <<'EOF'
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))["services"]
a, b = d["app1"]["environment"], d["app2"]["environment"]
for k in ("DATABASE_URL", "REDIS_URL", "AZURE_STORAGE_CONNECTION_STRING", "STORAGE_BACKEND"):
    assert a[k] == b[k], f"{k} differs between the instances"
assert a["STORAGE_BACKEND"] == "azure", "instances must share an object store, not local folders"
assert "lb" in d and any("lb.conf" in v for v in d["lb"]["volumes"]), "no balancer"
EOF
if command -v docker-compose >/dev/null; then
  check "docker-compose config (docker-compose.lb.yml)" docker-compose -f "$deploy_dir/docker-compose.lb.yml" config -q
elif docker compose version >/dev/null 2>&1; then
  check "docker compose config (docker-compose.lb.yml)" docker compose -f "$deploy_dir/docker-compose.lb.yml" config -q
else
  skip "compose CLI: not installed (docker-compose.lb.yml checked as YAML above)"
fi
if docker info >/dev/null 2>&1 && [[ "${VALIDATE_COMPOSE_UP:-1}" == "1" ]]; then
  lb_check() {
    local project="camp-lb-validate" f="$deploy_dir/docker-compose.lb.yml"
    local auth=(-H "Authorization: Bearer mock-access-token-dev-12345" -H "Content-Type: application/json")
    local id status=0
    docker compose -p "$project" -f "$f" up -d --build --wait >/dev/null || status=1
    if [[ $status == 0 ]]; then
      for port in 8001 8002 8080; do
        curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null || { echo "port $port not ready"; status=1; }
      done
    fi
    if [[ $status == 0 ]]; then
      id="$(curl -fsS "${auth[@]}" -d "{\"name\":\"Before\",\"code\":\"LB-$RANDOM\"}" \
        http://127.0.0.1:8001/api/v1/project | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')" &&
        curl -fsS "${auth[@]}" "http://127.0.0.1:8002/api/v1/project/$id" >/dev/null &&
        curl -fsS "${auth[@]}" -X PATCH -d '{"name":"After"}' "http://127.0.0.1:8001/api/v1/project/$id" >/dev/null &&
        curl -fsS "${auth[@]}" "http://127.0.0.1:8002/api/v1/project/$id" | grep -q '"name":"After"' ||
        { echo "instance 2 did not read instance 1's write fresh"; status=1; }
    fi
    docker compose -p "$project" -f "$f" down -v >/dev/null 2>&1
    return $status
  }
  check "docker-compose.lb.yml up: both instances serve; a write on one is read fresh on the other" lb_check
else
  skip "two-instance compose run: no Docker daemon (tests/two-instances.test.ts runs the same check with two processes)"
fi

echo "== shell scripts"
shell_scripts=("$deploy_dir"/scripts/*.sh "$deploy_dir"/certbot/*.sh "$deploy_dir"/firewall/*.sh
  "$deploy_dir"/cloudflare/*.sh "$deploy_dir/validate.sh")
for script in "${shell_scripts[@]}"; do
  check "bash -n ${script#"$repo_dir"/}" bash -n "$script"
done
command -v shellcheck >/dev/null || try_install shellcheck || true
if command -v shellcheck >/dev/null; then
  for script in "${shell_scripts[@]}"; do
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
