#!/usr/bin/env bash
# Makes the secrets docker/compose.yaml reads (a JWT secret and an admin token, 32 random bytes each, hex) in DIR,
# readable by their owner only. Existing files are kept.
#
#   scripts/make-secrets.sh docker/secrets
set -euo pipefail
dir=${1:?usage: make-secrets.sh DIR}
mkdir -p "$dir"
chmod 700 "$dir"
for name in jwt_secret admin_token; do
    [ -s "$dir/$name" ] && continue
    (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/$name")
    echo "made $dir/$name"
done
