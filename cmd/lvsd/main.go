// Command lvsd is a VRRP + IPVS daemon for LVS clusters.
package main

import (
	"fmt"
	"os"
)

var version = "dev"

func main() {
	fmt.Fprintln(os.Stderr, "lvsd", version)
}
