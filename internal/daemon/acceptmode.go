package daemon

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"

	"github.com/coreos/go-iptables/iptables"

	"github.com/lvsd/lvsd/internal/config"
	"github.com/lvsd/lvsd/vrrp"
)

// accept_mode = false (RFC 5798 Accept_Mode False, keepalived's no_accept with
// vrrp_strict): while a non-owner instance is MASTER, packets addressed to its VIPs are
// dropped in the filter table's INPUT chain. ARP is not IP, so it is still answered; for
// IPv6 VIPs, neighbour solicitations and advertisements are accepted before the drop.
// Every rule carries the comment "lvsd accept_mode NAME": lvsd only ever removes rules with
// its own comment.

// ruleTable is the part of an iptables/ip6tables command the filter needs.
type ruleTable interface {
	Exists(table, chain string, spec ...string) (bool, error)
	Insert(table, chain string, pos int, spec ...string) error
	Delete(table, chain string, spec ...string) error
}

// acceptFilter installs and removes one instance's rules.
type acceptFilter struct {
	comment    string
	vips       []netip.Addr
	ipt4, ipt6 ruleTable
	log        *slog.Logger
}

// acceptModeReactions returns the reaction that enforces accept_mode = false for in, or
// nothing when the instance accepts (the default) or owns its addresses (priority 255:
// RFC 5798 lets the owner accept always).
func acceptModeReactions(in *config.VRRPInstance, log *slog.Logger) ([]func(vrrp.State), error) {
	if in.AcceptMode || in.Priority == vrrp.PriorityOwner {
		return nil, nil
	}
	f := &acceptFilter{comment: "lvsd accept_mode " + in.Name, log: log.With("instance", in.Name)}
	var need4, need6 bool
	for _, v := range in.VIPs {
		f.vips = append(f.vips, v.Prefix.Addr())
		need4 = need4 || v.Prefix.Addr().Is4()
		need6 = need6 || v.Prefix.Addr().Is6()
	}
	var err error
	if need4 {
		if f.ipt4, err = iptables.New(iptables.IPFamily(iptables.ProtocolIPv4), iptables.Timeout(5)); err != nil {
			return nil, fmt.Errorf("accept_mode = false needs iptables: %w", err)
		}
	}
	if need6 {
		if f.ipt6, err = iptables.New(iptables.IPFamily(iptables.ProtocolIPv6), iptables.Timeout(5)); err != nil {
			return nil, fmt.Errorf("accept_mode = false needs ip6tables: %w", err)
		}
	}
	return []func(vrrp.State){f.OnState}, nil
}

// rules are the rules of one VIP, in the order they must appear in INPUT.
func (f *acceptFilter) rules(vip netip.Addr) (ruleTable, [][]string) {
	c := []string{"-m", "comment", "--comment", f.comment}
	if vip.Is4() {
		return f.ipt4, [][]string{append([]string{"-d", vip.String() + "/32"}, append(c, "-j", "DROP")...)}
	}
	d := []string{"-d", vip.String() + "/128"}
	nd := func(typ string) []string {
		return append(append(append([]string{}, d...), "-p", "ipv6-icmp", "-m", "icmp6", "--icmpv6-type", typ), append(c, "-j", "ACCEPT")...)
	}
	return f.ipt6, [][]string{nd("135"), nd("136"), append(append([]string{}, d...), append(c, "-j", "DROP")...)}
}

// OnState installs the rules on MASTER and removes them in every other state (INIT is
// the instance's stop).
func (f *acceptFilter) OnState(s vrrp.State) {
	var errs []error
	for _, vip := range f.vips {
		t, rules := f.rules(vip)
		if s == vrrp.StateMaster {
			// Inserted last first, each at the top: they end up in order, before
			// anything else in INPUT.
			for i := len(rules) - 1; i >= 0; i-- {
				if ok, err := t.Exists("filter", "INPUT", rules[i]...); err != nil || !ok {
					if err := t.Insert("filter", "INPUT", 1, rules[i]...); err != nil {
						errs = append(errs, fmt.Errorf("add accept_mode rule for %s: %w", vip, err))
					}
				}
			}
			continue
		}
		for _, r := range rules {
			if ok, err := t.Exists("filter", "INPUT", r...); err == nil && ok {
				if err := t.Delete("filter", "INPUT", r...); err != nil {
					errs = append(errs, fmt.Errorf("remove accept_mode rule for %s: %w", vip, err))
				}
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		f.log.Error("accept_mode rules", "state", s, "err", err)
		return
	}
	f.log.Debug("accept_mode rules", "state", s, "installed", s == vrrp.StateMaster)
}
