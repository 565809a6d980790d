#!/usr/bin/env bash
# Real-server side of examples/nat-wrr (seed 004, LVS-NAT). lvsd runs on the director only.
# An LVS-NAT real server needs one thing: its replies must go back through the director,
# which translates them. The seed does it with netplan (gateway4: 192.168.59.100); this
# script does it with ip:
#   up      make GW (the director's DIP) the default gateway; the default routes found
#           before are saved and removed (a second default with another metric would win)
#   down    remove that default route and put the saved ones back
#   status  show the default routes
# Idempotent. Careful: changing the default route over SSH from another network can cut
# your session; run it from the console or from a host in the real servers' segment.
# Override from the environment, e.g.  GW=192.168.59.100 DEV=eth0 ./realserver.sh up
set -euo pipefail

GW=${GW:-192.168.59.100}                  # the director's inside address (DIP)
DEV=${DEV:-ens33}                         # the real server's NIC in 192.168.59.0/24
STATE_DIR=${STATE_DIR:-/run/lvsd-realserver}
STATE="$STATE_DIR/nat-default-routes"     # default routes found before the first "up"
GW_RE=${GW//./\\.}                        # GW as a regular expression

log() { printf 'realserver.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# is_ours: the only default route is ours.
is_ours() {
  local routes
  routes=$(ip -4 route show default)
  [ "$(printf '%s\n' "$routes" | grep -c .)" = 1 ] &&
    printf '%s\n' "$routes" | grep -Eq "^default via $GW_RE dev $DEV( |\$)"
}

up() {
  ip link show dev "$DEV" >/dev/null 2>&1 || die "no such interface: $DEV (set DEV=...)"
  if is_ours; then log "up: default via $GW dev $DEV already"; return 0; fi
  # The gateway must be on-link on DEV (no " via " in the route to it), or the kernel
  # refuses the new default after we removed the old one.
  local r
  r=$(ip -4 route get "$GW" oif "$DEV" 2>/dev/null) || die "$GW is not reachable on $DEV; nothing changed"
  case "$r" in *" via "*) die "$GW is not on $DEV's own network; nothing changed" ;; esac
  mkdir -p "$STATE_DIR"
  if [ ! -e "$STATE" ]; then
    ip -4 route show default >"$STATE.tmp"
    mv "$STATE.tmp" "$STATE"
  fi
  local current
  current=$(ip -4 route show default)
  while IFS= read -r r; do
    [ -n "$r" ] && ip -4 route del $r        # word splitting intended: a route spec
  done <<<"$current"
  if ! ip -4 route add default via "$GW" dev "$DEV"; then
    log "could not add default via $GW dev $DEV; putting the previous default routes back"
    restore_saved
    exit 1
  fi
  log "up: default via $GW dev $DEV (previous defaults saved in $STATE)"
}

# restore_saved re-adds the default routes saved by the first "up" and forgets them.
restore_saved() {
  [ -e "$STATE" ] || return 0
  local r
  while IFS= read -r r; do
    r=${r//linkdown/}; r=${r//dead/}          # state flags ip prints but does not accept
    [ -n "$r" ] && { ip -4 route add $r || log "could not restore: $r"; }
  done <"$STATE"
  rm -f "$STATE"
}

down() {
  if ip -4 route show default | grep -Eq "^default via $GW_RE dev $DEV( |\$)"; then
    ip -4 route del default via "$GW" dev "$DEV"
  fi
  restore_saved
  log "down: default via $GW removed, previous default routes restored"
}

status() { ip -4 route show default; }

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
