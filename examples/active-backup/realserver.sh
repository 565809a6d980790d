#!/usr/bin/env bash
# Real-server side of examples/active-backup (seed 003's LVS-DR lab behind a director pair).
# lvsd runs on the two directors only; the real servers do not care which director is
# MASTER. These are the steps each LVS-DR real server still needs, with ip and sysctl:
#   up      VIP on lo as lo:0 (/32); arp_ignore=1 and arp_announce=2 on "all" and on DEV
#           (the kernel uses the larger of "all" and the interface); host route VIP dev lo
#   down    undo exactly that: remove what "up" added (an address or route that was there
#           before stays) and put the sysctls back to the values saved by the first "up"
#   status  show what is in place
# The steps themselves are in ../realserver-dr.sh (shared by the LVS-DR examples);
# up and down are idempotent.
# Defaults are the seed's lab; override from the environment, e.g.
#   DEV=ens33 ./realserver.sh up
set -euo pipefail

VIP=${VIP:-10.10.10.213}                  # the virtual server's address
DEV=${DEV:-eth0}                          # the NIC that carries the RIP
LABEL=${LABEL:-lo:0}                      # address label, so `ip addr` shows lo:0 like ifconfig
ARP_ALL=1
HOST_ROUTE=1

export VIP DEV LABEL ARP_ALL HOST_ROUTE SCRIPT="$0"
# Beside this script (copied together to a server), or one level up (in the repository).
here=$(dirname "$(readlink -f "$0")")
shared=$here/realserver-dr.sh
[ -e "$shared" ] || shared=$here/../realserver-dr.sh
exec bash "$shared" "$@"
