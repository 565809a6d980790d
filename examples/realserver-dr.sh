#!/usr/bin/env bash
# The LVS-DR real-server steps shared by the examples (dr-one-segment, dr-across-segments,
# active-backup, two-box-fwmark, two-box-backup-only). Each example's realserver.sh sets the
# seed's defaults and runs this; keep the two files together when copying them to a server.
#   up      VIP on lo with LABEL (/32); arp_ignore=1 and arp_announce=2 on DEV, and on "all"
#           unless ARP_ALL=0 (the kernel uses the larger of "all" and the interface); a host
#           route VIP dev lo unless HOST_ROUTE=0
#   down    undo exactly that: remove what "up" added (an address or route that was there
#           before stays) and put the sysctls back to the values saved by the first "up"
#   status  show what is in place
# Both up and down are idempotent: running them twice changes nothing the second time.
set -euo pipefail

: "${VIP:?set VIP}" "${DEV:?set DEV}"
LABEL=${LABEL:-lo:0}                      # address label, so `ip addr` shows lo:0 like ifconfig
ARP_ALL=${ARP_ALL:-1}                     # 0: ARP sysctls on DEV only (the two-box seed)
HOST_ROUTE=${HOST_ROUTE:-1}               # 0: no host route (the two-box seed has none)
STATE_DIR=${STATE_DIR:-/run/lvsd-realserver}
STATE="$STATE_DIR/$VIP.sysctl"            # sysctl values found before the first "up"

# key=value, with / as separator so interface names containing dots (VLANs) work.
SYSCTLS=(
  "net/ipv4/conf/$DEV/arp_ignore=1"       # answer ARP only for addresses on the asking NIC
  "net/ipv4/conf/$DEV/arp_announce=2"     # never use the VIP as ARP source address
)
if [ "$ARP_ALL" = 1 ]; then
  SYSCTLS=("net/ipv4/conf/all/arp_ignore=1" "${SYSCTLS[0]}" "net/ipv4/conf/all/arp_announce=2" "${SYSCTLS[1]}")
fi
WHERE="$DEV"
[ "$ARP_ALL" = 1 ] && WHERE="all and $DEV"

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
  if [ "$HOST_ROUTE" = 1 ]; then           # seed: route add -host VIP dev lo:0
    have_route || { ip route add "$VIP/32" dev lo; mark route; }
  fi
  log "up: $VIP on lo ($LABEL), arp_ignore=1 arp_announce=2 on $WHERE"
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
  [ "$HOST_ROUTE" = 1 ] && ip -4 route show table main exact "$VIP/32" dev lo
  for kv in "${SYSCTLS[@]}"; do
    key=${kv%%=*}
    printf '%s = %s\n' "$key" "$(sysctl -n "$key" 2>/dev/null || echo '?')"
  done
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: ${SCRIPT:-$0} up|down|status" >&2; exit 2 ;;
esac
