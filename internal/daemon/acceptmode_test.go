package daemon

import (
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/lvsd/lvsd/internal/config"
	"github.com/lvsd/lvsd/vrrp"
)

// fakeRules is an INPUT chain: rules joined with spaces, first = top.
type fakeRules struct{ chain []string }

func (f *fakeRules) Exists(_, _ string, spec ...string) (bool, error) {
	return slices.Contains(f.chain, strings.Join(spec, " ")), nil
}

func (f *fakeRules) Insert(_, _ string, pos int, spec ...string) error {
	f.chain = slices.Insert(f.chain, pos-1, strings.Join(spec, " "))
	return nil
}

func (f *fakeRules) Delete(_, _ string, spec ...string) error {
	f.chain = slices.DeleteFunc(f.chain, func(r string) bool { return r == strings.Join(spec, " ") })
	return nil
}

func TestAcceptFilter(t *testing.T) {
	v4, v6 := &fakeRules{chain: []string{"-j other"}}, &fakeRules{}
	f := &acceptFilter{comment: "lvsd accept_mode VI_1", ipt4: v4, ipt6: v6,
		vips: []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")},
		log:  slog.New(slog.NewTextHandler(io.Discard, nil))}
	f.OnState(vrrp.StateMaster)
	f.OnState(vrrp.StateMaster) // idempotent
	c := `-m comment --comment lvsd accept_mode VI_1`
	want4 := []string{"-d 192.0.2.1/32 " + c + " -j DROP", "-j other"}
	want6 := []string{
		"-d 2001:db8::1/128 -p ipv6-icmp -m icmp6 --icmpv6-type 135 " + c + " -j ACCEPT",
		"-d 2001:db8::1/128 -p ipv6-icmp -m icmp6 --icmpv6-type 136 " + c + " -j ACCEPT",
		"-d 2001:db8::1/128 " + c + " -j DROP",
	}
	if !slices.Equal(v4.chain, want4) || !slices.Equal(v6.chain, want6) {
		t.Fatalf("MASTER rules:\n%q\n%q", v4.chain, v6.chain)
	}
	for _, s := range []vrrp.State{vrrp.StateBackup, vrrp.StateInit} {
		f.OnState(vrrp.StateMaster)
		f.OnState(s)
		// Only our own rules go.
		if !slices.Equal(v4.chain, []string{"-j other"}) || len(v6.chain) != 0 {
			t.Fatalf("after %v: %q %q", s, v4.chain, v6.chain)
		}
	}
}

func TestAcceptModeOnlyWhenOff(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, in := range []config.VRRPInstance{
		{Name: "on", AcceptMode: true, Priority: 100},
		{Name: "owner", AcceptMode: false, Priority: 255},
	} {
		fs, err := acceptModeReactions(&in, log)
		if err != nil || len(fs) != 0 {
			t.Errorf("%s: %d reactions, %v; want none", in.Name, len(fs), err)
		}
	}
}
