#!/bin/sh
# ltc-backup.sh: `ltc backup` into a new dated folder of BACKUP_ROOT, then keep only the
# newest BACKUP_KEEP backups. Run by deploy/systemd/ltc-backup.service (as the ltc user,
# with /etc/ltc/ltc.env); by hand:
#     sudo -u ltc sh -c 'set -a; . /etc/ltc/ltc.env; exec sh /opt/ltc/deploy/ltc-backup.sh'
#
#   BACKUP_ROOT  folder of the backups (default /var/lib/ltc-backups)
#   BACKUP_KEEP  how many to keep, at least 1 (default 7)
#   LTC_BIN      the ltc command (default /opt/ltc/.venv/bin/ltc)
#   LTC_*        the registry's settings, as for every ltc command
#
# A backup is written under a hidden name (.partial-…) and renamed when `ltc backup`
# has succeeded: an interrupted backup is never counted among those kept, and is
# removed by the next run. Restore one with `ltc restore BACKUP_ROOT/<date>` into an
# empty data folder (README, "Backup and restore").
set -eu

root="${BACKUP_ROOT:-/var/lib/ltc-backups}"
keep="${BACKUP_KEEP:-7}"
ltc="${LTC_BIN:-/opt/ltc/.venv/bin/ltc}"

case "$keep" in
    '' | *[!0-9]*) echo "ltc-backup: BACKUP_KEEP must be a whole number, not '$keep'" >&2; exit 2 ;;
esac
if [ "$keep" -lt 1 ]; then
    echo "ltc-backup: BACKUP_KEEP must be at least 1" >&2
    exit 2
fi

mkdir -p "$root"
stamp="$(date -u +%Y-%m-%dT%H%M%SZ)"
final="$root/$stamp"
partial="$root/.partial-$stamp"
if [ -e "$final" ] || [ -e "$partial" ]; then
    echo "ltc-backup: $final already exists (two backups in one second?)" >&2
    exit 1
fi

# what an earlier, interrupted run left
find "$root" -mindepth 1 -maxdepth 1 -name '.partial-*' -exec rm -rf -- {} +

if ! "$ltc" backup "$partial"; then
    rm -rf -- "$partial"
    echo "ltc-backup: ltc backup failed; the earlier backups are kept" >&2
    exit 1
fi
mv -- "$partial" "$final"
echo "ltc-backup: $final"

# keep the newest $keep: the dated names sort in time order
find "$root" -mindepth 1 -maxdepth 1 -type d -name '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z' \
    | sort | head -n "-$keep" | while IFS= read -r old; do
        rm -rf -- "$old"
        echo "ltc-backup: removed $old"
    done
