#!/usr/bin/env bash
# Real-server side of examples/dr-across-segments (seed 004, "LVS-DR模式多网段"). lvsd runs
# on the director only; these are the steps each LVS-DR real server still needs, done with
# ip and sysctl instead of ifconfig/route. The VIP's network (10.0.0.0/24) is not the RIP
# network, but it is on the same wire, so the ARP settings matter as much as on one segment:
#   up      VIP on lo as lo:1 (/32); arp_ignore=1 and arp_announce=2 on "all" and on DEV
#           (the kernel uses the larger of "all" and the interface); host route VIP dev lo
#   down    undo exactly that: remove what "up" added (an address or route that was there
#           before stays) and put the sysctls back to the values saved by the first "up"
#   status  show what is in place
# The steps themselves are in ../realserver-dr.sh (shared by the LVS-DR examples);
# up and down are idempotent.
# Defaults are the seed's lab; override from the environment, e.g.
#   DEV=eth0 ./realserver.sh up
# The default gateway stays the router (192.168.59.200), never the director.
set -euo pipefail

VIP=${VIP:-10.0.0.100}                    # the virtual server's address
DEV=${DEV:-ens33}                         # the NIC that carries the RIP
LABEL=${LABEL:-lo:1}                      # address label, so `ip addr` shows lo:1 like ifconfig
ARP_ALL=1
HOST_ROUTE=1

export VIP DEV LABEL ARP_ALL HOST_ROUTE SCRIPT="$0"
# Beside this script (copied together to a server), or one level up (in the repository).
here=$(dirname "$(readlink -f "$0")")
shared=$here/realserver-dr.sh
[ -e "$shared" ] || shared=$here/../realserver-dr.sh
exec bash "$shared" "$@"
