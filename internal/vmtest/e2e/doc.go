// Package e2e holds end-to-end tests of lvsd against a real IPVS: real TCP traffic from a
// client namespace through a director namespace (IPVS programmed by the real lvsd binary)
// to real-server namespaces, for each forwarding method of the seed scenarios (DR, NAT with
// wrr, TUN), fwmark services, persistence, drift repair and adoption across a restart.
//
// The tests carry the build tag vmtest and need root and a kernel with IPVS, so they run
// inside the VM: go run ./internal/vmtest/cmd/vmtest -suite e2e (see docs/testing.md).
package e2e
