#!/usr/bin/env bash
# /etc/letsencrypt/renewal-hooks/deploy/reload-nginx.sh  (mode 0755)
# certbot runs deploy hooks only after a certificate was renewed. nginx reads certificates at
# start and on reload, so reload it — after checking the configuration, so a broken site file
# never takes the running server down (a failed check leaves the old certificate in service and
# makes certbot report the hook's failure).
set -euo pipefail

nginx -t -q
systemctl reload nginx
echo "nginx reloaded for renewed certificate(s): ${RENEWED_DOMAINS:-unknown}"
