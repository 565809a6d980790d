#!/usr/bin/env bash
# Real-server side of examples/active-backup (seed 003's LVS-DR lab behind a director pair).
# lvsd runs on the two directors only; the real servers do not care which director is
# MASTER. These are the steps each LVS-DR real server still needs, with ip and sysctl:
#   up      VIP on lo as lo:0 (/32); arp_ignore=1 and arp_announce=2 on "all" and on DEV
#           (the kernel uses the larger of "all" and the interface); host route VIP dev lo
#   down    undo exactly that: remove what "up" added (an address or route that was there
#           before stays) and put the sysctls back to the values saved by the first "up"
#   status  show what is in place
# Both up and down are idempotent: running them twice changes nothing the second time.
# Defaults are the seed's lab; override from the environment, e.g.
#   DEV=ens33 ./realserver.sh up
set -euo pipefail

VIP=${VIP:-10.10.10.213}                  # the virtual server's address
DEV=${DEV:-eth0}                          # the NIC that carries the RIP
LABEL=${LABEL:-lo:0}                      # address label, so `ip addr` shows lo:0 like ifconfig
STATE_DIR=${STATE_DIR:-/run/lvsd-realserver}
STATE="$STATE_DIR/$VIP.sysctl"            # sysctl values found before the first "up"

# key=value, with / as separator so interface names containing dots (VLANs) work.
SYSCTLS=(
  "net/ipv4/conf/all/arp_ignore=1"        # answer ARP only for addresses on the asking NIC
  "net/ipv4/conf/$DEV/arp_ignore=1"
  "net/ipv4/conf/all/arp_announce=2"      # never use the VIP as ARP source address
  "net/ipv4/conf/$DEV/arp_announce=2"
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
have_route() { [ -n "$(ip -4 route show table main exact "$VIP/32" dev lo)" ]; }

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
  have_route || { ip route add "$VIP/32" dev lo; mark route; }   # seed: route add -host VIP dev lo:0
  log "up: $VIP on lo ($LABEL), arp_ignore=1 arp_announce=2 on all and $DEV"
}

down() {
  # Address first, sysctls last: the VIP must never be on lo with ARP unrestricted.
  if marked route && have_route; then ip route del "$VIP/32" dev lo; fi
  if marked addr && have_addr lo; then ip addr del "$VIP/32" dev lo; fi
  restore_sysctls
  rm -f "$ADDED"
  log "down: $VIP removed from lo, sysctls restored"
}

status() {
  local kv key
  ip -4 -o addr show dev lo to "$VIP/32"
  ip -4 route show table main exact "$VIP/32" dev lo
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
