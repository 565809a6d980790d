package doctor

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/lvsd/lvsd/internal/script"
)

// The groups VRRP adverts go to (RFC 3768, RFC 5798).
var (
	vrrpGroup4 = netip.MustParseAddr("224.0.0.18")
	vrrpGroup6 = netip.MustParseAddr("ff02::12")
)

// vrrpPacket is the advert the firewall is asked about: protocol 112, arriving on iface,
// to the multicast group (or, with unicast peers, to this host's own address).
type vrrpPacket struct {
	iface     string
	multicast bool
	ipv6      bool
}

func (p vrrpPacket) group() netip.Addr {
	if p.ipv6 {
		return vrrpGroup6
	}
	return vrrpGroup4
}

// verdict is what a firewall does with a vrrpPacket.
type verdict struct {
	dropped bool
	by      string // the rule or policy that drops it
	fix     string
}

// iptablesVerdict walks the filter table's INPUT chain of an `iptables-save` dump the way
// the kernel would for a VRRP advert. Only rules that surely match (no match options
// other than protocol, addresses and input interface) decide; a jump to another chain is
// not followed. A chain policy of DROP with no rule accepting VRRP drops it.
func iptablesVerdict(save string, p vrrpPacket) verdict {
	table, policy := "", "ACCEPT"
	var rules [][]string
	for _, line := range strings.Split(save, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "*"):
			table = line[1:]
		case table != "filter":
		case strings.HasPrefix(line, ":INPUT "):
			policy = strings.Fields(line)[1]
		case strings.HasPrefix(line, "-A INPUT "):
			if words, err := script.Split(line); err == nil { // iptables-save quotes like a shell
				rules = append(rules, words)
			}
		}
	}
	tool := "iptables"
	if p.ipv6 {
		tool = "ip6tables"
	}
	fix := fmt.Sprintf("%s -I INPUT -i %s -p vrrp -j ACCEPT", tool, p.iface)
	for _, r := range rules {
		target, ok := iptablesMatch(r[2:], p)
		if !ok {
			continue
		}
		switch target {
		case "ACCEPT":
			return verdict{}
		case "DROP", "REJECT":
			return verdict{dropped: true, by: tool + " rule `" + strings.Join(r, " ") + "`", fix: fix}
		}
	}
	if policy == "DROP" {
		return verdict{dropped: true, by: tool + " INPUT policy DROP (no rule accepts VRRP)", fix: fix}
	}
	return verdict{}
}

// iptablesMatch returns the rule's target and whether the rule surely matches p.
func iptablesMatch(args []string, p vrrpPacket) (string, bool) {
	target := ""
	for i := 0; i < len(args); i++ {
		opt := args[i]
		val := ""
		if i+1 < len(args) {
			val = args[i+1]
		}
		switch opt {
		case "-p":
			if !isVRRPProto(val) && val != "all" {
				return "", false
			}
		case "-d":
			if !addrMatches(val, p) {
				return "", false
			}
		case "-s":
			if val != "0.0.0.0/0" && val != "::/0" {
				return "", false // only some sources: not every advert
			}
		case "-i":
			if val != p.iface && !(strings.HasSuffix(val, "+") && strings.HasPrefix(p.iface, strings.TrimSuffix(val, "+"))) {
				return "", false
			}
		case "-j":
			target = val
		case "-m":
			if val != "comment" {
				return "", false
			}
		case "--comment":
		default:
			return "", false // a match doctor does not model (!, --state, --dport, ...)
		}
		i++
	}
	return target, target != ""
}

func isVRRPProto(s string) bool { return s == "vrrp" || s == "112" }

func addrMatches(s string, p vrrpPacket) bool {
	pfx, err := netip.ParsePrefix(s)
	if err != nil {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return false
		}
		pfx = netip.PrefixFrom(a, a.BitLen())
	}
	if pfx.Bits() == 0 {
		return true
	}
	return p.multicast && pfx.Contains(p.group())
}

// nftVerdict evaluates every base chain on the input hook of an `nft list ruleset` dump
// (a drop in any of them drops the packet). Chains named INPUT in ip/ip6 tables belong to
// iptables-nft and are judged from iptables-save instead.
func nftVerdict(ruleset string, p vrrpPacket) verdict {
	var table, chain string
	var inInput bool
	var policy string
	var decided bool
	finish := func() *verdict {
		if inInput && !decided && policy == "drop" {
			return &verdict{dropped: true, by: fmt.Sprintf("nft chain %s %s: policy drop (no rule accepts VRRP)", table, chain),
				fix: nftFix(table, chain, p)}
		}
		return nil
	}
	for _, raw := range strings.Split(ruleset, "\n") {
		line := strings.TrimSpace(raw)
		f := strings.Fields(line)
		switch {
		case len(f) >= 3 && f[0] == "table":
			table = f[1] + " " + f[2]
		case len(f) >= 2 && f[0] == "chain":
			chain, inInput, decided, policy = f[1], false, false, "accept"
		case strings.HasPrefix(line, "type ") && strings.Contains(line, "hook input"):
			inInput = chain != "INPUT"
			if i := strings.Index(line, "policy "); i >= 0 {
				policy = strings.TrimSuffix(strings.Fields(line[i+len("policy "):])[0], ";")
			}
		case line == "}":
			if v := finish(); v != nil {
				return *v
			}
			inInput = false
		case inInput && !decided && len(f) > 0:
			verdictWord, ok := nftMatch(f, p)
			if !ok {
				continue
			}
			switch verdictWord {
			case "accept":
				decided = true
			case "drop", "reject":
				return verdict{dropped: true, by: fmt.Sprintf("nft rule `%s` in chain %s %s", line, table, chain),
					fix: nftFix(table, chain, p)}
			}
		}
	}
	return verdict{}
}

// nftMatch returns the rule's verdict and whether the rule surely matches p.
func nftMatch(f []string, p vrrpPacket) (string, bool) {
	for i := 0; i < len(f); i++ {
		w := f[i]
		next := ""
		if i+1 < len(f) {
			next = strings.Trim(f[i+1], `"`)
		}
		switch {
		case w == "accept" || w == "drop" || w == "reject":
			return w, true
		case w == "counter":
			if next == "packets" { // "counter packets 0 bytes 0"
				i += 4
			}
		case w == "comment":
			i++
		case (w == "ip" && next == "protocol") || (w == "ip6" && next == "nexthdr") || (w == "meta" && next == "l4proto"):
			if i+2 >= len(f) || !isVRRPProto(f[i+2]) || (w != "meta" && (w == "ip") == p.ipv6) {
				return "", false
			}
			i += 2
		case (w == "ip" || w == "ip6") && next == "daddr":
			if i+2 >= len(f) || (w == "ip6") != p.ipv6 || !addrMatches(f[i+2], p) {
				return "", false
			}
			i += 2
		case w == "iif" || w == "iifname":
			if next != p.iface {
				return "", false
			}
			i++
		default:
			return "", false
		}
	}
	return "", false
}

func nftFix(table, chain string, p vrrpPacket) string {
	match := "ip protocol vrrp"
	if p.ipv6 {
		match = "ip6 nexthdr vrrp"
	}
	return fmt.Sprintf("nft insert rule %s %s iifname %q %s accept", table, chain, p.iface, match)
}
