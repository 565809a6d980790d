#!/usr/bin/env bash
# Real-server half of examples/two-box-backup-only (seed 001): run it on BOTH boxes,
# each of which is a director (lvsd) and a real server. The seed does this with ifcfg-lo:0
# and sysctl.conf:
#   up      VIP on lo as lo:0 (/32), so the box accepts VIP traffic whether or not it holds
#           the VIP on enp0s3; arp_ignore=1 and arp_announce=2 on DEV only, as the seed does
#           (the kernel uses the larger of "all" and DEV): the BACKUP must not answer ARP for
#           the VIP from lo, while the MASTER still answers for the copy lvsd put on DEV
#   down    undo exactly that: remove what "up" added (an address or route that was there
#           before stays) and put the sysctls back to the values saved by the first "up"
#   status  show what is in place
# Both up and down are idempotent: running them twice changes nothing the second time.
# Defaults are the seed's lab; override from the environment, e.g.
#   DEV=eth0 ./realserver.sh up
set -euo pipefail

VIP=${VIP:-172.16.0.30}                   # the virtual server's address
DEV=${DEV:-enp0s3}                        # the NIC that carries the RIP
LABEL=${LABEL:-lo:0}                      # address label, so `ip addr` shows lo:0 like ifconfig
STATE_DIR=${STATE_DIR:-/run/lvsd-realserver}
STATE="$STATE_DIR/$VIP.sysctl"            # sysctl values found before the first "up"

# key=value, with / as separator so interface names containing dots (VLANs) work.
SYSCTLS=(
  "net/ipv4/conf/$DEV/arp_ignore=1"       # answer ARP only for addresses on the asking NIC
  "net/ipv4/conf/$DEV/arp_announce=2"     # never use a lo address as ARP source
)

log() { printf 'realserver.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# What "up" added itself, so that "down" removes only that (an address that was already
# there, e.g. from the distribution's network configuration, is left alone).
ADDED="$STATE_DIR/$VIP.added"
mark() { mkdir -p "$STATE_DIR"; grep -qx "$1" "$ADDED" 2>/dev/null || echo "$1" >>"$ADDED"; }
marked() { grep -qx "$1" "$ADDED" 2>/dev/null; }

need_dev() {
  ip link show dev "$1" >/dev/null 2>&1 || die "no such interface: $1 (set DEV=...)"
}

have_addr() { [ -n "$(ip -4 -o addr show dev "$1" to "$VIP/32")" ]; }

save_sysctls() {
  [ -e "$STATE" ] && return 0             # keep the values from before the first "up"
  mkdir -p "$STATE_DIR"
  local kv key tmp="$STATE.tmp"
  : >"$tmp"
  for kv in "${SYSCTLS[@]}"; do
    key=${kv%%=*}
    printf '%s=%s\n' "$key" "$(sysctl -n "$key")" >>"$tmp"
  done
  mv "$tmp" "$STATE"
}

set_sysctls() {
  local kv key want
  for kv in "${SYSCTLS[@]}"; do
    key=${kv%%=*} want=${kv#*=}
    [ "$(sysctl -n "$key")" = "$want" ] || sysctl -q -w "$key=$want"
  done
}

restore_sysctls() {
  [ -e "$STATE" ] || return 0
  local line
  while IFS= read -r line; do
    [ -n "$line" ] && sysctl -q -w "$line"
  done <"$STATE"
  rm -f "$STATE"
}

up() {
  need_dev "$DEV"
  save_sysctls
  set_sysctls                             # before the VIP appears, so no ARP reply leaks
  ip link set dev lo up
  have_addr lo || { ip addr add "$VIP/32" dev lo label "$LABEL"; mark addr; }
  log "up: $VIP on lo ($LABEL), arp_ignore=1 arp_announce=2 on $DEV"
}

down() {
  # Address first, sysctls last: the VIP must never be on lo with ARP unrestricted.
  if marked addr && have_addr lo; then ip addr del "$VIP/32" dev lo; fi
  restore_sysctls
  rm -f "$ADDED"
  log "down: $VIP removed from lo, sysctls restored"
}

status() {
  local kv key
  ip -4 -o addr show dev lo to "$VIP/32"
  for kv in "${SYSCTLS[@]}"; do
    key=${kv%%=*}
    printf '%s = %s\n' "$key" "$(sysctl -n "$key" 2>/dev/null || echo '?')"
  done
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
