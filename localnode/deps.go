package localnode

// IPTables is the part of iptables lvsd uses (IPv4). Four small methods rather than the
// usual three: Exists doubles as the preflight check (iptables -C parses and checks a rule,
// and so names a missing match or target without changing anything), and List is how rules
// left by a crash are found.
type IPTables interface {
	// Exists reports whether the rule is in the chain (iptables -C).
	Exists(table, chain string, spec ...string) (bool, error)
	// Insert puts the rule first in the chain (iptables -I CHAIN 1): lvsd's rules must see
	// VIP traffic before other PREROUTING rules (as the seed's `-I`).
	Insert(table, chain string, spec ...string) error
	// Delete removes one copy of the rule (iptables -D); an error if there is none.
	Delete(table, chain string, spec ...string) error
	// List returns the chain as `iptables -t TABLE -S CHAIN` prints it.
	List(table, chain string) ([]string, error)
}

// Sysctl reads and writes one kernel setting by dotted key (net.ipv4.vs.backup_only).
type Sysctl interface {
	ReadSysctl(key string) (string, error)
	WriteSysctl(key, value string) error
}

// Deps are the Manager's effects. IPTables may be nil when no localnode uses fwmark or
// bypass; Sysctl may be nil when none uses backup_only.
type Deps struct {
	IPTables IPTables
	Sysctl   Sysctl
}
