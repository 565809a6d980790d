#!/usr/bin/env bash
# Real-server side of examples/tun (seed 004, "LVS-TUNNEL隧道模式"). lvsd runs on the
# director only. An LVS-TUN real server receives the client's packet wrapped in IP-in-IP
# (outer destination = its RIP); the kernel unwraps it on tunl0, so:
#   up      tunl0 up (loads the ipip module unless LOAD_IPIP=no) with the VIP on it (/32);
#           rp_filter=0 on "all" and tunl0 (the unwrapped packet's source, the client, is
#           not routed via tunl0, and the kernel uses the larger of "all" and the NIC);
#           arp_ignore=1 / arp_announce=2 on "all" and DEV (in the seed's lab the VIP is in
#           the real servers' own segment, so they must not answer ARP for it)
#   down    undo exactly that: remove the VIP if "up" added it; sysctls and tunl0's link
#           state go back to what "up" found
#   status  show what is in place
# Idempotent. If tunl0 cannot be had, "up" fails before changing anything.
# Override from the environment, e.g.  VIP=192.168.59.100 DEV=eth0 ./realserver.sh up
set -euo pipefail

VIP=${VIP:-192.168.59.100}                # the virtual server's address
DEV=${DEV:-ens33}                         # the NIC that carries the RIP
LOAD_IPIP=${LOAD_IPIP:-yes}               # "no": never modprobe, tunl0 must exist already
TUN_DEV=${TUN_DEV:-tunl0}                 # the ipip module's catch-all tunnel device
STATE_DIR=${STATE_DIR:-/run/lvsd-realserver}
STATE="$STATE_DIR/$VIP.tun.sysctl"        # sysctl values found before the first "up"
LINKSTATE="$STATE_DIR/$VIP.tun.link"      # "down" if tunl0 was down before the first "up"

SYSCTLS=(
  "net/ipv4/conf/all/rp_filter=0"
  "net/ipv4/conf/$TUN_DEV/rp_filter=0"
  "net/ipv4/conf/all/arp_ignore=1"
  "net/ipv4/conf/$DEV/arp_ignore=1"
  "net/ipv4/conf/all/arp_announce=2"
  "net/ipv4/conf/$DEV/arp_announce=2"
)

log() { printf 'realserver.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# What "up" added itself, so that "down" removes only that (an address that was already
# there, e.g. from the distribution's network configuration, is left alone).
ADDED="$STATE_DIR/$VIP.tun.added"
mark() { mkdir -p "$STATE_DIR"; grep -qx "$1" "$ADDED" 2>/dev/null || echo "$1" >>"$ADDED"; }
marked() { grep -qx "$1" "$ADDED" 2>/dev/null; }

have_link() { ip link show dev "$1" >/dev/null 2>&1; }
have_addr() { have_link "$TUN_DEV" && [ -n "$(ip -4 -o addr show dev "$TUN_DEV" to "$VIP/32")" ]; }

need_tunl0() {
  if ! have_link "$TUN_DEV" && [ "$LOAD_IPIP" = yes ]; then
    modprobe ipip 2>/dev/null || true
  fi
  have_link "$TUN_DEV" ||
    die "no $TUN_DEV: the ipip module is not loaded or not built (CONFIG_NET_IPIP); nothing changed"
}

save_state() {
  mkdir -p "$STATE_DIR"
  if [ ! -e "$STATE" ]; then
    local kv key tmp="$STATE.tmp"
    : >"$tmp"
    for kv in "${SYSCTLS[@]}"; do
      key=${kv%%=*}
      printf '%s=%s\n' "$key" "$(sysctl -n "$key")" >>"$tmp"
    done
    mv "$tmp" "$STATE"
  fi
  if [ ! -e "$LINKSTATE" ]; then
    if ip link show dev "$TUN_DEV" | grep -q '<[^>]*\bUP\b'; then echo up; else echo down; fi >"$LINKSTATE"
  fi
}

set_sysctls() {
  local kv key want
  for kv in "${SYSCTLS[@]}"; do
    key=${kv%%=*} want=${kv#*=}
    [ "$(sysctl -n "$key")" = "$want" ] || sysctl -q -w "$key=$want"
  done
}

up() {
  have_link "$DEV" || die "no such interface: $DEV (set DEV=...); nothing changed"
  need_tunl0
  save_state
  set_sysctls                             # before the VIP appears, so no ARP reply leaks
  ip link set dev "$TUN_DEV" up
  have_addr || { ip addr add "$VIP/32" dev "$TUN_DEV"; mark addr; }
  log "up: $VIP on $TUN_DEV, rp_filter=0 on all and $TUN_DEV, arp_ignore=1 arp_announce=2 on all and $DEV"
}

down() {
  if marked addr && have_addr; then ip addr del "$VIP/32" dev "$TUN_DEV"; fi
  rm -f "$ADDED"
  if [ -e "$LINKSTATE" ]; then
    if [ "$(cat "$LINKSTATE")" = down ] && have_link "$TUN_DEV"; then ip link set dev "$TUN_DEV" down; fi
    rm -f "$LINKSTATE"
  fi
  if [ -e "$STATE" ]; then
    local line
    while IFS= read -r line; do
      [ -n "$line" ] && sysctl -q -w "$line"
    done <"$STATE"
    rm -f "$STATE"
  fi
  log "down: $VIP removed from $TUN_DEV, sysctls restored"
}

status() {
  local kv key
  if have_link "$TUN_DEV"; then ip -4 -o addr show dev "$TUN_DEV"; fi
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
