package vrrp

import (
	"context"
	"fmt"
	"slices"
)

// LinuxDeps opens the Linux effects for one instance: its own Conn (multicast, or unicast
// when cfg.UnicastPeers is set), Addresses and Announcer, and a link watcher over the
// instance's interface and its tracked interfaces, which stops with ctx. Set
// cfg.PrimaryIP to unicast_src_ip when configured; if unset, LinuxDeps fills it with the
// interface's primary IPv4 address (the advert source and tie-break address).
// Notifier, Clock and Log are left for the caller. Call it from a thread in the network
// namespace the instance runs in (any thread of a process that never switches).
func LinuxDeps(ctx context.Context, cfg *InstanceConfig) (Deps, error) {
	if !cfg.PrimaryIP.IsValid() {
		ip, err := PrimaryIPv4(cfg.Interface)
		if err != nil {
			return Deps{}, fmt.Errorf("vrrp instance %q: %w", cfg.Name, err)
		}
		cfg.PrimaryIP = ip
	}
	src := cfg.PrimaryIP
	conn, err := NewConn(cfg.Interface, src, cfg.UnicastPeers)
	if err != nil {
		return Deps{}, fmt.Errorf("vrrp instance %q: %w", cfg.Name, err)
	}
	names := []string{cfg.Interface}
	for _, n := range cfg.TrackInterfaces {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	links, err := NewLinkWatcher().Watch(ctx, names)
	if err != nil {
		conn.Close()
		return Deps{}, fmt.Errorf("vrrp instance %q: %w", cfg.Name, err)
	}
	return Deps{Conn: conn, Addresses: NewAddresses(), Announcer: NewAnnouncer(), Links: links}, nil
}
