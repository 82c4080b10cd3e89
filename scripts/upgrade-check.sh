#!/usr/bin/env bash
# `make upgrade-check FROM=<commit>`: prove that a database built and used by an older commit
# migrates to this checkout without losing a row.
#
# 1. checks FROM out in a temporary worktree and installs it;
# 2. on a new PostgreSQL database, migrates and runs FROM's seed_demo (orders through their
#    lifecycle, holds, exception cases, events, inbound messages), then applies an inventory
#    adjustment and a snapshot through FROM's import_inventory (inventory feed messages);
# 3. counts the rows of every table, migrates with this checkout, counts again;
# 4. runs this checkout's seed_demo on the upgraded data (it updates in place);
# 5. fails if a table that still exists lost rows, or if the rows of a table that was dropped
#    did not arrive elsewhere (the total must not fall).
# The database and the worktree are removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
FROM=${FROM:?"say which commit to upgrade from: make upgrade-check FROM=<commit>"}
PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
export PGHOST PGPORT PGUSER
DB="oms_upgrade_check_$$"
URL="postgres://$PGUSER@$PGHOST:$PGPORT/$DB"
WORK=$(mktemp -d)
cleanup() {
  dropdb --if-exists "$DB" || true
  git worktree remove --force "$WORK/old" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

counts() {  # "table rows" for every table of the database, sorted
  psql -d "$DB" -At -c "select string_agg(format('select %L, count(*) from %I', tablename,
      tablename), ' union all ') from pg_tables where schemaname = 'public'" \
    | psql -d "$DB" -At -F' ' | sort
}

echo "== $FROM: install, migrate, seed_demo, inventory feeds"
git worktree add --quiet --detach "$WORK/old" "$FROM"
make -C "$WORK/old" install >/dev/null
createdb "$DB"
old() { (cd "$WORK/old" && DATABASE_URL=$URL OMS_ALLOW_INSECURE_KEY=1 LOG_LEVEL=ERROR \
  .venv/bin/python manage.py "$@"); }
old migrate --no-input -v0
old seed_demo --base-url http://127.0.0.1:8000 >/dev/null
printf 'sku,delta,reason\nAPP-CHINO-BRG-M,12,receipt\nAPP-CHINO-BRG-L,-1,damaged\n' > "$WORK/adj.csv"
printf 'sku,on_hand\nAPP-CHINO-BRG-M,40\n' > "$WORK/snap.csv"
old import_inventory --node dc-columbus --kind adjustment --message-id UPGRADE-ADJ-1 "$WORK/adj.csv" \
  > "$WORK/import.log"
old import_inventory --node dc-reno --kind snapshot --as-of 2026-12-01T06:00:00Z "$WORK/snap.csv" \
  >> "$WORK/import.log"
grep -v '^  ' "$WORK/import.log" || true
# A webhook subscription with its secret, to see the secret survive the upgrade.
old shell -c "from integrations.models import WebhookSubscription as W
w = W.objects.create(name='upgrade-check', url='https://hooks.example.com/oms', event_types=['*'])
print(w.secret)" > "$WORK/secret.txt"
counts > "$WORK/before.txt"

echo "== this checkout: migrate"
DATABASE_URL=$URL OMS_ALLOW_INSECURE_KEY=1 LOG_LEVEL=ERROR .venv/bin/python manage.py migrate \
  --no-input
counts > "$WORK/after.txt"
echo "== this checkout reads the subscription's secret as it was"
DATABASE_URL=$URL OMS_ALLOW_INSECURE_KEY=1 LOG_LEVEL=ERROR .venv/bin/python manage.py shell -c \
  "from integrations.models import WebhookSubscription as W
print(W.objects.get(name='upgrade-check').secret)" > "$WORK/secret_after.txt"
if diff -q <(tail -n 1 "$WORK/secret.txt") <(tail -n 1 "$WORK/secret_after.txt") >/dev/null; then
  echo "webhook secret kept"
else
  echo "WEBHOOK SECRET CHANGED"; exit 1
fi
echo "== this checkout works on the upgraded data: seed_demo again (updates in place)"
DATABASE_URL=$URL OMS_ALLOW_INSECURE_KEY=1 LOG_LEVEL=ERROR .venv/bin/python manage.py seed_demo \
  --base-url http://127.0.0.1:8000 > "$WORK/seed.log"
head -n 1 "$WORK/seed.log"

python3 - "$WORK/before.txt" "$WORK/after.txt" <<'PY'
import sys

def read(path):
    return {t: int(n) for t, n in (line.split() for line in open(path) if line.strip())}

before, after = read(sys.argv[1]), read(sys.argv[2])
lost = {t: (n, after[t]) for t, n in before.items() if t in after and after[t] < n}
dropped = {t: n for t, n in before.items() if t not in after}
grown = {t: (before.get(t, 0), n) for t, n in after.items() if n > before.get(t, 0)}
for label, rows in (("kept", {t: before[t] for t in before if t in after and t not in grown}),):
    print(f"{len(rows)} tables kept every row ({sum(rows.values())} rows)")
for t, (a, b) in sorted(grown.items()):
    print(f"  {t}: {a} -> {b}")
for t, n in sorted(dropped.items()):
    print(f"  dropped {t}: {n} rows before")
total_before, total_after = sum(before.values()), sum(after.values())
print(f"rows: {total_before} before, {total_after} after")
if lost:
    sys.exit(f"LOST ROWS: {lost}")
if dropped and total_after < total_before:
    sys.exit("rows of dropped tables did not arrive anywhere")
print("upgrade check passed")
PY
