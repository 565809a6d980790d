package healthcheck

import (
	"net"
	"strconv"
)

// netInterfaceIndex resolves an IPv6 zone (interface name or number) to an index.
func netInterfaceIndex(zone string) (int, error) {
	if n, err := strconv.Atoi(zone); err == nil {
		return n, nil
	}
	ifi, err := net.InterfaceByName(zone)
	if err != nil {
		return 0, err
	}
	return ifi.Index, nil
}
