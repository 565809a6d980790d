package vrrp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// netlinkLinks is the Linux LinkWatcher, fed by RTNLGRP_LINK notifications.
type netlinkLinks struct {
	log *slog.Logger
	// subscribe opens one subscription; a seam for the resubscription test.
	subscribe func(ctx context.Context, ns netns.NsHandle) (chan netlink.LinkUpdate, error)
}

var _ LinkWatcher = (*netlinkLinks)(nil)

// NewLinkWatcher returns the netlink implementation of LinkWatcher. It watches the network
// namespace of the thread that calls Watch.
func NewLinkWatcher() LinkWatcher {
	return &netlinkLinks{log: slog.Default(), subscribe: subscribeLinks}
}

// linkUp decides whether a link can carry VRRP. It is up when it is administratively up
// (IFF_UP) and has carrier (IFF_LOWER_UP), and its RFC 2863 operational state is UP or
// UNKNOWN (dummy, tun and loopback never leave UNKNOWN). For a veth this means: both ends
// are up. Taking down either end of the pair clears IFF_LOWER_UP on the other end and sets
// its operstate to LOWERLAYERDOWN, so a tracked veth goes down when its peer does, as a
// NIC does when its cable is pulled. DORMANT and TESTING count as down. This matches
// keepalived's IFF_UP && IFF_RUNNING test: the kernel sets IFF_RUNNING exactly when the
// operstate is UP or UNKNOWN.
func linkUp(a *netlink.LinkAttrs) bool {
	if a.RawFlags&unix.IFF_UP == 0 || a.RawFlags&unix.IFF_LOWER_UP == 0 {
		return false
	}
	return a.OperState == netlink.OperUp || a.OperState == netlink.OperUnknown
}

// resubscribeDelay paces resubscription after the netlink socket failed (e.g. ENOBUFS when
// notifications overflowed the receive buffer).
const resubscribeDelay = 200 * time.Millisecond

// Watch reports the state of names: first the current state of each (a missing link is
// down), then each change. The channel is closed when ctx ends.
func (w *netlinkLinks) Watch(ctx context.Context, names []string) (<-chan LinkEvent, error) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	// Pin the namespace of the caller: the goroutine below may run on any thread.
	ns, err := netns.Get()
	if err != nil {
		return nil, fmt.Errorf("watch links %v: current network namespace: %w", names, err)
	}
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		ns.Close()
		return nil, fmt.Errorf("watch links %v: %w", names, err)
	}
	sub, err := w.subscribe(ctx, ns)
	if err != nil {
		h.Close()
		ns.Close()
		return nil, fmt.Errorf("watch links %v: %w", names, err)
	}
	out := make(chan LinkEvent, len(names)+8)
	go func() {
		defer close(out)
		defer ns.Close()
		defer h.Close()
		last := map[string]bool{}
		emit := func(name string, up bool) bool {
			if prev, ok := last[name]; ok && prev == up {
				return true
			}
			last[name] = up
			select {
			case out <- LinkEvent{Name: name, Up: up}:
				return true
			case <-ctx.Done():
				return false
			}
		}
		// refresh reads the current state of every name: first at start, and after a
		// resubscription, when changes may have been missed.
		refresh := func() bool {
			for _, n := range names {
				up := false
				if l, err := h.LinkByName(n); err == nil {
					up = linkUp(l.Attrs())
				}
				if !emit(n, up) {
					return false
				}
			}
			return true
		}
		if !refresh() {
			drain(sub)
			return
		}
		for {
			select {
			case <-ctx.Done():
				drain(sub)
				return
			case u, ok := <-sub:
				if ok {
					a := u.Link.Attrs()
					if !want[a.Name] {
						continue
					}
					up := u.Header.Type != unix.RTM_DELLINK && linkUp(a)
					if !emit(a.Name, up) {
						drain(sub)
						return
					}
					continue
				}
				// The subscription ended without our asking: subscribe again.
				for {
					select {
					case <-ctx.Done():
						return
					case <-time.After(resubscribeDelay):
					}
					s, err := w.subscribe(ctx, ns)
					if err == nil {
						sub = s
						break
					}
					w.log.Warn("link watch: resubscribe failed", "links", names, "err", err)
				}
				w.log.Info("link watch: resubscribed", "links", names)
				if !refresh() {
					drain(sub)
					return
				}
			}
		}
	}()
	return out, nil
}

// subscribeLinks opens one netlink subscription that ends when ctx does.
func subscribeLinks(ctx context.Context, ns netns.NsHandle) (chan netlink.LinkUpdate, error) {
	ch := make(chan netlink.LinkUpdate, 64)
	err := netlink.LinkSubscribeWithOptions(ch, ctx.Done(), netlink.LinkSubscribeOptions{
		Namespace: &ns,
		// Errors end the subscription (the channel closes) and Watch resubscribes.
		ErrorCallback: func(error) {},
	})
	if err != nil {
		return nil, errors.Join(errors.New("subscribe to link notifications"), err)
	}
	return ch, nil
}

// drain empties a subscription channel until netlink closes it, so that its reader
// goroutine, blocked on a send, can see that ctx ended and exit.
func drain(ch chan netlink.LinkUpdate) {
	go func() {
		for range ch {
		}
	}()
}
