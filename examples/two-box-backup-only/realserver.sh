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
# The steps themselves are in ../realserver-dr.sh (shared by the LVS-DR examples);
# up and down are idempotent.
# Defaults are the seed's lab; override from the environment, e.g.
#   DEV=eth0 ./realserver.sh up
set -euo pipefail

VIP=${VIP:-172.16.0.30}                   # the virtual server's address
DEV=${DEV:-enp0s3}                        # the NIC that carries the RIP
LABEL=${LABEL:-lo:0}                      # address label, so `ip addr` shows lo:0 like ifconfig
ARP_ALL=0                                 # the seed sets the ARP sysctls on the NIC only
HOST_ROUTE=0                              # and adds no host route

export VIP DEV LABEL ARP_ALL HOST_ROUTE SCRIPT="$0"
# Beside this script (copied together to a server), or one level up (in the repository).
here=$(dirname "$(readlink -f "$0")")
shared=$here/realserver-dr.sh
[ -e "$shared" ] || shared=$here/../realserver-dr.sh
exec bash "$shared" "$@"
