// Package localnode makes "two-box" LVS clusters safe: each of two machines is both director
// and real server, and VRRP decides which one balances. Without help, packets loop between
// the two directors (seed 001). Three fixes, one per mode:
//
//   - fwmark: mark VIP traffic in mangle PREROUTING unless it comes from the peer director's
//     MAC; the virtual server is `fwmark:N`, so what the peer forwards skips IPVS and reaches
//     the local service. Needed on both boxes whatever their role: installed at Start,
//     removed at Stop.
//   - bypass: while BACKUP/FAULT (and from Start until the first MASTER), a nat PREROUTING
//     REDIRECT sends VIP traffic to the local service before IPVS sees it; MASTER has no
//     such rule. This is the seed's bypass_ipvs.sh add/del.
//   - backup_only: net.ipv4.vs.backup_only=1 while not MASTER, 0 on MASTER, the original
//     value restored at Stop. The kernel honours the flag only while the IPVS sync daemon is
//     in backup state (Documentation/networking/ipvs-sysctl.rst: "disable the director
//     function while the server is in backup mode"), so the lvs_sync_daemon role following
//     VRRP (lvs.SyncFollower) is what makes it work; following the role with the flag too
//     guarantees that a MASTER balances even if a stale backup sync daemon survived.
//
// This file is pure: configuration and role in, iptables rules out.
package localnode

import (
	"fmt"
	"strconv"
	"strings"
)

// TagPrefix starts the iptables comment of every rule lvsd installs; only rules carrying it
// are ever removed. The full comment is TagPrefix + the localnode block's name.
const TagPrefix = "lvsd:localnode:"

// BackupOnlySysctl is the kernel setting of mode backup_only (kernel 3.9+, IPVS loaded).
const BackupOnlySysctl = "net.ipv4.vs.backup_only"

// maxComment is the xt_comment limit (XT_MAX_COMMENT_LEN 256, with the NUL).
const maxComment = 255

// Tag is the iptables comment carried by the rules of localnode name.
func Tag(name string) string { return TagPrefix + name }

// Role is what a localnode block acts on: MASTER balances, everything else (BACKUP, FAULT,
// INIT before the first state and after the instance stopped) is a plain real server.
type Role uint8

const (
	RoleBackup Role = iota // also FAULT and INIT: not the director
	RoleMaster
)

func (r Role) String() string {
	if r == RoleMaster {
		return "MASTER"
	}
	return "BACKUP"
}

// Rule is one iptables rule: table, chain and the rulespec as `iptables -S` prints it after
// `-A CHAIN` (so that rules found in the kernel compare equal to computed ones).
type Rule struct {
	Table, Chain string
	Spec         []string
}

func (r Rule) String() string {
	return fmt.Sprintf("-t %s -A %s %s", r.Table, r.Chain, strings.Join(r.Spec, " "))
}

// key identifies a rule for comparison: iptables prints MACs lowercase (nf_tables) or
// uppercase (legacy), so the comparison ignores case.
func (r Rule) key() string {
	return strings.ToLower(r.Table + " " + r.Chain + " " + strings.Join(r.Spec, "\x00"))
}

// Chains are the (table, chain) pairs lvsd's rules live in; stale rules are looked for here.
var Chains = []Rule{{Table: "mangle", Chain: "PREROUTING"}, {Table: "nat", Chain: "PREROUTING"}}

// Rules returns the iptables rules localnode ln needs in role r. Pure. backup_only has none.
func Rules(ln Config, r Role) []Rule {
	switch ln.Mode {
	case ModeFWMark:
		spec := matchSpec(ln)
		spec = append(spec, "-m", "mac", "!", "--mac-source", strings.ToLower(ln.PeerMAC.String()))
		spec = append(spec, "-m", "comment", "--comment", Tag(ln.Name),
			"-j", "MARK", "--set-xmark", fmt.Sprintf("0x%x/0xffffffff", ln.FWMark))
		return []Rule{{Table: "mangle", Chain: "PREROUTING", Spec: spec}}
	case ModeBypass:
		if r == RoleMaster {
			return nil
		}
		spec := matchSpec(ln)
		// REDIRECT without --to-ports keeps the destination port and rewrites the address
		// to the incoming interface's primary one: IPVS (LOCAL_IN) then no longer sees the
		// VIP, and the local service answers.
		spec = append(spec, "-m", "comment", "--comment", Tag(ln.Name), "-j", "REDIRECT")
		return []Rule{{Table: "nat", Chain: "PREROUTING", Spec: spec}}
	}
	return nil
}

// allRules is every rule ln may need in any role (used by the preflight check).
func allRules(ln Config) []Rule {
	return append(Rules(ln, RoleBackup), Rules(ln, RoleMaster)...)
}

// matchSpec is the VIP, protocol and port part, in iptables' own print order.
func matchSpec(ln Config) []string {
	proto := strings.ToLower(ln.Protocol)
	spec := []string{"-d", ln.VIP.String() + "/32", "-p", proto}
	if ln.Port != 0 {
		spec = append(spec, "-m", proto, "--dport", strconv.Itoa(int(ln.Port)))
	}
	return spec
}

// needs names what the kernel and iptables must provide for ln's rules, for error messages.
func needs(ln Config) string {
	proto := strings.ToLower(ln.Protocol)
	switch ln.Mode {
	case ModeFWMark:
		return fmt.Sprintf("iptables table mangle, match %s, match mac, match comment, target MARK", proto)
	case ModeBypass:
		return fmt.Sprintf("iptables table nat, match %s, match comment, target REDIRECT", proto)
	}
	return "sysctl " + BackupOnlySysctl
}

// ParseRule turns one line of `iptables -t TABLE -S CHAIN` into a Rule; ok is false for
// lines that are not rules (`-P`, `-N`). Quoted words (iptables quotes comments) are
// unquoted, with backslash escapes inside quotes.
func ParseRule(table, line string) (Rule, bool, error) {
	words, err := splitWords(line)
	if err != nil {
		return Rule{}, false, fmt.Errorf("parse iptables rule %q: %w", line, err)
	}
	if len(words) < 2 || words[0] != "-A" {
		return Rule{}, false, nil
	}
	return Rule{Table: table, Chain: words[1], Spec: words[2:]}, true, nil
}

// Tagged reports the localnode name in r's comment, if r carries lvsd's tag.
func (r Rule) Tagged() (name string, ok bool) {
	for i := 0; i+1 < len(r.Spec); i++ {
		if r.Spec[i] == "--comment" {
			if n, ok := strings.CutPrefix(r.Spec[i+1], TagPrefix); ok {
				return n, true
			}
		}
	}
	return "", false
}

// splitWords splits like a shell without expansion: whitespace separates words, double
// quotes group, and a backslash inside quotes escapes the next character.
func splitWords(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inWord, inQuote := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inQuote && c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
		case c == '"':
			inQuote = !inQuote
			inWord = true
		case !inQuote && (c == ' ' || c == '\t' || c == '\n'):
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inQuote {
		return nil, fmt.Errorf("unterminated quote")
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out, nil
}

// validate checks what New can check without the system.
func validate(ln Config) error {
	if ln.Name == "" {
		return fmt.Errorf("empty name")
	}
	if len(Tag(ln.Name)) > maxComment {
		return fmt.Errorf("name longer than %d bytes (it goes into an iptables comment)", maxComment-len(TagPrefix))
	}
	if strings.ContainsAny(ln.Name, "\"\\\n") {
		return fmt.Errorf("name must not contain quotes, backslashes or newlines (it goes into an iptables comment)")
	}
	switch ln.Mode {
	case ModeFWMark, ModeBypass:
		if !ln.VIP.IsValid() {
			return fmt.Errorf("mode %s needs a vip", ln.Mode)
		}
		if !ln.VIP.Is4() {
			return fmt.Errorf("vip %s: only IPv4 is supported (iptables, not ip6tables)", ln.VIP)
		}
		if ln.Mode == ModeFWMark {
			if len(ln.PeerMAC) != 6 {
				return fmt.Errorf("mode fwmark needs a 6-byte peer_mac, got %q", ln.PeerMAC.String())
			}
			if ln.FWMark == 0 {
				return fmt.Errorf("mode fwmark needs a non-zero fwmark")
			}
		}
	case ModeBackupOnly:
	default:
		return fmt.Errorf("unknown mode %d", ln.Mode)
	}
	return nil
}
