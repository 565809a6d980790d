package config

import (
	"fmt"
	"net"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"unicode"
)

// Diff compares two validated configurations by identity, never by position in the files:
//
//   - a vrrp_instance is its interface + virtual_router_id + address family + unicast or
//     multicast (as keepalived matches instances on reload): renaming it is a change, not
//     a new instance;
//   - a virtual_server is its protocol + address:port, or its fwmark (+ family);
//   - a real_server is its IP:port within its virtual server;
//   - a real server's checkers are identified by their whole definition: any change to one
//     starts its health state over;
//   - a localnode is its vrrp_instance (by identity) + mode; the lvs_sync_daemon is its
//     interface + sync_id.
//
// Source positions are not compared. Fields are compared generically (reflection over
// the typed structs), so a field added to a block is covered without touching Diff.
//
// The Plan says what a reload does and what it costs: whether a change may cause a VRRP
// transition, releases a VIP, recreates an IPVS service, or resets health state.

// Op is what happens to one object.
type Op string

const (
	OpAdd    Op = "add"
	OpRemove Op = "remove"
	OpChange Op = "change"
)

// Object kinds of a Change, named as the config blocks.
const (
	KindGlobal        = "global"
	KindVRRPInstance  = "vrrp_instance"
	KindVirtualServer = "virtual_server"
	KindRealServer    = "real_server"
	KindChecks        = "checks" // a real server's health checkers
	KindLocalnode     = "localnode"
	KindSyncDaemon    = "lvs_sync_daemon"
)

// FieldChange is one attribute that differs, in the config's keyword names.
type FieldChange struct {
	Name string `json:"name"`
	Old  string `json:"old"`
	New  string `json:"new"`
}

func (f FieldChange) String() string { return f.Name + " " + f.Old + " -> " + f.New }

// Change is one object added, removed or changed.
type Change struct {
	Op   Op     `json:"op"`
	Kind string `json:"kind"`
	// ID is the object's identity (see Diff); Name is its label as written (the new one
	// for changes and additions, the old one for removals), OldName the old label when a
	// change renamed it.
	ID      string `json:"id"`
	Name    string `json:"name,omitempty"`
	OldName string `json:"old_name,omitempty"`
	// Parent is the virtual server's ID for real servers and checkers.
	Parent string        `json:"parent,omitempty"`
	Fields []FieldChange `json:"fields,omitempty"`
	// Restart: the object cannot take this change in place and is stopped and started
	// again (a VRRP instance whose unicast_src_ip or track_interface changed).
	Restart bool `json:"restart,omitempty"`
	// Costs of the change.
	Transition       bool `json:"vrrp_transition"`   // may cause a VRRP state transition
	ReleasesVIP      bool `json:"releases_vip"`      // a virtual address is removed from this host
	RecreatesService bool `json:"recreates_service"` // an IPVS service is deleted and added again
	ResetsHealth     bool `json:"resets_health"`     // health state (up/down, counters) starts over
}

// String is one human line, e.g.
// `change vrrp_instance "VI_1" (eth0 vrid 51 IPv4 multicast): priority 100 -> 150 [may cause a VRRP transition]`.
func (c Change) String() string {
	var b strings.Builder
	b.WriteString(string(c.Op))
	b.WriteByte(' ')
	b.WriteString(c.Kind)
	if c.Name != "" && c.Name != c.ID {
		fmt.Fprintf(&b, " %q (%s)", c.Name, c.ID)
	} else if c.ID != c.Kind {
		b.WriteString(" " + c.ID)
	}
	if c.Parent != "" {
		b.WriteString(" in virtual_server " + c.Parent)
	}
	var parts []string
	if c.OldName != "" {
		parts = append(parts, fmt.Sprintf("renamed from %q", c.OldName))
	}
	for _, f := range c.Fields {
		parts = append(parts, f.String())
	}
	if len(parts) > 0 {
		b.WriteString(": " + strings.Join(parts, ", "))
	}
	var costs []string
	if c.Restart {
		costs = append(costs, "restarts the instance")
	}
	if c.Transition {
		costs = append(costs, "may cause a VRRP transition")
	}
	if c.ReleasesVIP {
		costs = append(costs, "releases a VIP")
	}
	if c.RecreatesService {
		costs = append(costs, "recreates an IPVS service")
	}
	if c.ResetsHealth {
		costs = append(costs, "resets health state")
	}
	if len(costs) > 0 {
		b.WriteString(" [" + strings.Join(costs, ", ") + "]")
	}
	return b.String()
}

// Plan is the ordered list of changes from one configuration to another: global first,
// then VRRP instances, virtual servers, real servers, checkers, localnodes, the sync
// daemon and any other block kind; within a kind removals, changes, then additions.
type Plan struct {
	Changes []Change `json:"changes"`
}

// Empty reports whether the configurations are equivalent.
func (p Plan) Empty() bool { return len(p.Changes) == 0 }

// Of returns the changes of one kind.
func (p Plan) Of(kind string) []Change {
	var out []Change
	for _, c := range p.Changes {
		if c.Kind == kind {
			out = append(out, c)
		}
	}
	return out
}

// Find returns the change of kind with identity id (and parent, for real servers).
func (p Plan) Find(kind, parent, id string) (Change, bool) {
	for _, c := range p.Changes {
		if c.Kind == kind && c.Parent == parent && c.ID == id {
			return c, true
		}
	}
	return Change{}, false
}

// InstanceID is a VRRP instance's identity: "eth0 vrid 51 IPv4 multicast".
func InstanceID(in *VRRPInstance) string {
	fam := "IPv4"
	if in.IPv6 {
		fam = "IPv6"
	}
	cast := "multicast"
	if len(in.UnicastPeers) > 0 {
		cast = "unicast"
	}
	return fmt.Sprintf("%s vrid %d %s %s", in.Interface, in.VRID, fam, cast)
}

// ServiceID is a virtual server's identity: "TCP 10.0.0.1:80", "fwmark 3", "fwmark 3 IPv6".
func ServiceID(vs *VirtualServer) string {
	if vs.IsFWMark() {
		if vs.IPv6 {
			return fmt.Sprintf("fwmark %d IPv6", vs.FWMark)
		}
		return fmt.Sprintf("fwmark %d", vs.FWMark)
	}
	return vs.Protocol.String() + " " + vs.Addr.String()
}

// LocalnodeID is a localnode's identity within cfg: its instance's identity and its mode.
func LocalnodeID(cfg *Config, ln *Localnode) string {
	inst := "vrrp_instance " + ln.VRRPInstance
	if in := cfg.Instance(ln.VRRPInstance); in != nil {
		inst = InstanceID(in)
	}
	return inst + " mode " + ln.Mode.String()
}

// SyncDaemonID is the sync daemon's identity: "eth0 sync_id 51".
func SyncDaemonID(sd *SyncDaemon) string {
	return fmt.Sprintf("%s sync_id %d", sd.Interface, sd.SyncID)
}

// instanceRestartFields cannot change on a running VRRP instance: the raw socket is bound
// to unicast_src_ip, the link watcher follows the tracked interfaces, and the protocol
// version changes the packets and the timers.
var instanceRestartFields = []string{"unicast_src_ip", "track_interface", "vrrp_version"}

// instanceTransitionFields may make a running instance change state: its rank against the
// other routers, or whether it preempts.
var instanceTransitionFields = []string{"priority", "preempt"}

// Diff returns what changes from old to new (either may be nil: an empty config).
func Diff(old, new *Config) Plan {
	if old == nil {
		old = &Config{}
	}
	if new == nil {
		new = &Config{}
	}
	var p Plan
	if fs := fieldChanges(old.Global, new.Global); len(fs) > 0 {
		p.Changes = append(p.Changes, Change{Op: OpChange, Kind: KindGlobal, ID: "global", Fields: fs})
	}
	p.diffInstances(old, new)
	p.diffServices(old, new)
	p.diffLocalnodes(old, new)
	p.diffSyncDaemon(old, new)
	p.diffOthers(old, new)
	p.Changes = ordered(p.Changes)
	return p
}

// kindOrder ranks kinds in the order a plan lists them; other kinds come last.
var kindOrder = []string{KindGlobal, KindVRRPInstance, KindVirtualServer, KindRealServer, KindChecks, KindLocalnode, KindSyncDaemon}

func ordered(cs []Change) []Change {
	rank := func(c Change) int {
		k := slices.Index(kindOrder, c.Kind)
		if k < 0 {
			k = len(kindOrder)
		}
		op := map[Op]int{OpRemove: 0, OpChange: 1, OpAdd: 2}[c.Op]
		return k*3 + op
	}
	slices.SortStableFunc(cs, func(a, b Change) int { return rank(a) - rank(b) })
	return cs
}

func (p *Plan) diffInstances(old, new *Config) {
	oldByID := map[string]*VRRPInstance{}
	for i := range old.VRRPInstances {
		oldByID[InstanceID(&old.VRRPInstances[i])] = &old.VRRPInstances[i]
	}
	newIDs := map[string]bool{}
	for i := range new.VRRPInstances {
		n := &new.VRRPInstances[i]
		id := InstanceID(n)
		newIDs[id] = true
		o := oldByID[id]
		if o == nil {
			p.Changes = append(p.Changes, Change{Op: OpAdd, Kind: KindVRRPInstance, ID: id, Name: n.Name, Transition: true})
			continue
		}
		skip := []string{"Name"}
		if !slices.Equal(o.TrackInterfaces, n.TrackInterfaces) {
			skip = append(skip, "TrackInterfaceWeights") // the track_interface change says it
		}
		fs := fieldChanges(*o, *n, skip...)
		if len(fs) == 0 && o.Name == n.Name {
			continue
		}
		c := Change{Op: OpChange, Kind: KindVRRPInstance, ID: id, Name: n.Name, Fields: fs}
		if o.Name != n.Name {
			c.OldName = o.Name
		}
		for _, f := range fs {
			switch {
			case slices.Contains(instanceRestartFields, f.Name):
				c.Restart = true
			case slices.Contains(instanceTransitionFields, f.Name):
				c.Transition = true
			}
		}
		if c.Restart {
			c.Transition, c.ReleasesVIP = true, true
		} else if len(removedVIPs(o, n)) > 0 {
			c.ReleasesVIP = true
		}
		p.Changes = append(p.Changes, c)
	}
	for i := range old.VRRPInstances {
		o := &old.VRRPInstances[i]
		if id := InstanceID(o); !newIDs[id] {
			p.Changes = append(p.Changes, Change{Op: OpRemove, Kind: KindVRRPInstance, ID: id, Name: o.Name,
				Transition: true, ReleasesVIP: len(o.VIPs) > 0})
		}
	}
}

// InstanceRestart reports whether a change of instance old into new (same identity) needs
// the instance stopped and started again rather than reconfigured in place.
func InstanceRestart(old, new *VRRPInstance) bool {
	for _, f := range fieldChanges(*old, *new, "Name") {
		if slices.Contains(instanceRestartFields, f.Name) {
			return true
		}
	}
	return false
}

// removedVIPs are the addresses of old that new no longer carries.
func removedVIPs(old, new *VRRPInstance) []netip.Addr {
	var out []netip.Addr
	for _, v := range old.VIPs {
		if !slices.ContainsFunc(new.VIPs, func(w VIP) bool { return w.Prefix.Addr() == v.Prefix.Addr() }) {
			out = append(out, v.Prefix.Addr())
		}
	}
	return out
}

func (p *Plan) diffServices(old, new *Config) {
	oldByID := map[string]*VirtualServer{}
	for i := range old.VirtualServers {
		oldByID[ServiceID(&old.VirtualServers[i])] = &old.VirtualServers[i]
	}
	newIDs := map[string]bool{}
	for i := range new.VirtualServers {
		n := &new.VirtualServers[i]
		id := ServiceID(n)
		newIDs[id] = true
		o := oldByID[id]
		if o == nil {
			p.Changes = append(p.Changes, Change{Op: OpAdd, Kind: KindVirtualServer, ID: id, Name: n.Name})
			continue
		}
		if fs := fieldChanges(*o, *n, "Name", "RealServers"); len(fs) > 0 || o.Name != n.Name {
			c := Change{Op: OpChange, Kind: KindVirtualServer, ID: id, Name: n.Name, Fields: fs}
			if o.Name != n.Name {
				c.OldName = o.Name
			}
			p.Changes = append(p.Changes, c)
		}
		p.diffRealServers(id, o, n)
	}
	for i := range old.VirtualServers {
		o := &old.VirtualServers[i]
		if id := ServiceID(o); !newIDs[id] {
			p.Changes = append(p.Changes, Change{Op: OpRemove, Kind: KindVirtualServer, ID: id, Name: o.Name})
		}
	}
}

func (p *Plan) diffRealServers(vsID string, old, new *VirtualServer) {
	if len(old.RealServers) == len(new.RealServers) && len(old.RealServers) > 0 && &old.RealServers[0] == &new.RealServers[0] {
		return // the same list: a Loader found the block unchanged
	}
	oldByAddr := map[netip.AddrPort]*RealServer{}
	for i := range old.RealServers {
		oldByAddr[old.RealServers[i].Addr] = &old.RealServers[i]
	}
	seen := map[netip.AddrPort]bool{}
	for i := range new.RealServers {
		n := &new.RealServers[i]
		seen[n.Addr] = true
		id := n.Addr.String()
		o := oldByAddr[n.Addr]
		if o == nil {
			p.Changes = append(p.Changes, Change{Op: OpAdd, Kind: KindRealServer, ID: id, Parent: vsID})
			continue
		}
		if fs := fieldChanges(*o, *n, "Checks"); len(fs) > 0 {
			p.Changes = append(p.Changes, Change{Op: OpChange, Kind: KindRealServer, ID: id, Parent: vsID, Fields: fs})
		}
		if !ChecksEqual(o.Checks, n.Checks) {
			p.Changes = append(p.Changes, Change{Op: OpChange, Kind: KindChecks, ID: id, Parent: vsID,
				Fields: checkChanges(o.Checks, n.Checks), ResetsHealth: true})
		}
	}
	for i := range old.RealServers {
		if o := &old.RealServers[i]; !seen[o.Addr] {
			p.Changes = append(p.Changes, Change{Op: OpRemove, Kind: KindRealServer, ID: o.Addr.String(), Parent: vsID})
		}
	}
}

// ChecksEqual reports whether two real servers' checkers are the same definitions, in
// the same order (positions aside).
func ChecksEqual(a, b []Check) bool {
	return equalValues(reflect.ValueOf(a), reflect.ValueOf(b))
}

// checkChanges describes how the checkers differ: field by field when there is one of
// the same kind on each side, else the lists of kinds.
func checkChanges(old, new []Check) []FieldChange {
	if len(old) == 1 && len(new) == 1 && old[0].Kind == new[0].Kind {
		fs := fieldChanges(old[0], new[0], "MiscArgv")
		for i := range fs {
			fs[i].Name = old[0].Kind.String() + "." + fs[i].Name
		}
		return fs
	}
	kinds := func(cs []Check) string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Kind.String())
		}
		if len(out) == 0 {
			return "none"
		}
		return strings.Join(out, " ")
	}
	return []FieldChange{{Name: "checks", Old: kinds(old), New: kinds(new)}}
}

func (p *Plan) diffLocalnodes(old, new *Config) {
	oldByID := map[string]*Localnode{}
	for i := range old.Localnodes {
		oldByID[LocalnodeID(old, &old.Localnodes[i])] = &old.Localnodes[i]
	}
	newIDs := map[string]bool{}
	for i := range new.Localnodes {
		n := &new.Localnodes[i]
		id := LocalnodeID(new, n)
		newIDs[id] = true
		o := oldByID[id]
		if o == nil {
			p.Changes = append(p.Changes, Change{Op: OpAdd, Kind: KindLocalnode, ID: id, Name: n.Name})
			continue
		}
		fs := fieldChanges(*o, *n, "Name")
		if len(fs) == 0 && o.Name == n.Name {
			continue
		}
		c := Change{Op: OpChange, Kind: KindLocalnode, ID: id, Name: n.Name, Fields: fs}
		if o.Name != n.Name {
			c.OldName = o.Name
		}
		p.Changes = append(p.Changes, c)
	}
	for i := range old.Localnodes {
		o := &old.Localnodes[i]
		if id := LocalnodeID(old, o); !newIDs[id] {
			p.Changes = append(p.Changes, Change{Op: OpRemove, Kind: KindLocalnode, ID: id, Name: o.Name})
		}
	}
}

func (p *Plan) diffSyncDaemon(old, new *Config) {
	o, n := old.SyncDaemon, new.SyncDaemon
	switch {
	case o == nil && n == nil:
	case o == nil:
		p.Changes = append(p.Changes, Change{Op: OpAdd, Kind: KindSyncDaemon, ID: SyncDaemonID(n)})
	case n == nil:
		p.Changes = append(p.Changes, Change{Op: OpRemove, Kind: KindSyncDaemon, ID: SyncDaemonID(o)})
	case SyncDaemonID(o) != SyncDaemonID(n):
		p.Changes = append(p.Changes, Change{Op: OpRemove, Kind: KindSyncDaemon, ID: SyncDaemonID(o)},
			Change{Op: OpAdd, Kind: KindSyncDaemon, ID: SyncDaemonID(n)})
	default:
		if fs := fieldChanges(*o, *n); len(fs) > 0 {
			p.Changes = append(p.Changes, Change{Op: OpChange, Kind: KindSyncDaemon, ID: SyncDaemonID(n), Fields: fs})
		}
	}
}

// knownTop are the Config fields Diff compares by identity; every other field holding
// blocks is compared generically by its elements' Name (see diffOthers).
var knownTop = []string{"Global", "VRRPInstances", "VirtualServers", "Localnodes", "SyncDaemon", "Warnings", "Files"}

// diffOthers covers block kinds Diff has no identity rule for: a slice of structs with a
// Name field is matched by name, anything else is compared whole.
func (p *Plan) diffOthers(old, new *Config) {
	ov, nv := reflect.ValueOf(old).Elem(), reflect.ValueOf(new).Elem()
	t := ov.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() || slices.Contains(knownTop, f.Name) {
			continue
		}
		kind := keyword(f.Name)
		a, b := ov.Field(i), nv.Field(i)
		if a.Kind() == reflect.Slice && a.Type().Elem().Kind() == reflect.Struct {
			if _, ok := a.Type().Elem().FieldByName("Name"); ok {
				p.diffNamed(kind, a, b)
				continue
			}
		}
		if !equalValues(a, b) {
			p.Changes = append(p.Changes, Change{Op: OpChange, Kind: kind, ID: kind,
				Fields: []FieldChange{{Name: kind, Old: format(a), New: format(b)}}})
		}
	}
}

func (p *Plan) diffNamed(kind string, a, b reflect.Value) {
	name := func(v reflect.Value) string { return fmt.Sprint(v.FieldByName("Name").Interface()) }
	oldByName := map[string]reflect.Value{}
	for i := 0; i < a.Len(); i++ {
		oldByName[name(a.Index(i))] = a.Index(i)
	}
	seen := map[string]bool{}
	for i := 0; i < b.Len(); i++ {
		n := b.Index(i)
		id := name(n)
		seen[id] = true
		o, ok := oldByName[id]
		if !ok {
			p.Changes = append(p.Changes, Change{Op: OpAdd, Kind: kind, ID: id})
			continue
		}
		if fs := fieldChanges(o.Interface(), n.Interface()); len(fs) > 0 {
			p.Changes = append(p.Changes, Change{Op: OpChange, Kind: kind, ID: id, Fields: fs})
		}
	}
	for i := 0; i < a.Len(); i++ {
		if id := name(a.Index(i)); !seen[id] {
			p.Changes = append(p.Changes, Change{Op: OpRemove, Kind: kind, ID: id})
		}
	}
}

var posType = reflect.TypeFor[Pos]()

// fieldChanges compares two structs of the same type field by field, skipping positions
// and the named fields.
func fieldChanges(old, new any, skip ...string) []FieldChange {
	ov, nv := reflect.ValueOf(old), reflect.ValueOf(new)
	t := ov.Type()
	var out []FieldChange
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() || f.Type == posType || slices.Contains(skip, f.Name) {
			continue
		}
		a, b := ov.Field(i), nv.Field(i)
		if equalValues(a, b) {
			continue
		}
		out = append(out, FieldChange{Name: keyword(f.Name), Old: format(a), New: format(b)})
	}
	return out
}

// equalValues is reflect.DeepEqual that ignores Pos fields and treats nil and empty
// slices alike.
func equalValues(a, b reflect.Value) bool {
	switch a.Kind() {
	case reflect.Struct:
		if a.Type().PkgPath() != posType.PkgPath() {
			return reflect.DeepEqual(a.Interface(), b.Interface())
		}
		for i := 0; i < a.NumField(); i++ {
			f := a.Type().Field(i)
			if f.Type == posType {
				continue
			}
			if !f.IsExported() {
				continue
			}
			if !equalValues(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Slice, reflect.Array:
		if a.Len() != b.Len() {
			return false
		}
		if a.Kind() == reflect.Slice && a.Len() > 0 && a.Pointer() == b.Pointer() {
			return true // the same elements (a Loader shares what did not change)
		}
		for i := 0; i < a.Len(); i++ {
			if !equalValues(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return equalValues(a.Elem(), b.Elem())
	}
	return reflect.DeepEqual(a.Interface(), b.Interface())
}

// format renders a value for a FieldChange.
func format(v reflect.Value) string {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return "none"
		}
		return format(v.Elem())
	case reflect.String:
		return fmt.Sprintf("%q", v.String())
	case reflect.Slice:
		if v.Len() == 0 {
			return "[]"
		}
		if v.Type() == reflect.TypeFor[net.IPMask]() || v.Type() == reflect.TypeFor[net.HardwareAddr]() {
			return fmt.Sprint(v.Interface())
		}
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = format(v.Index(i))
			if v.Index(i).Kind() == reflect.String {
				parts[i] = v.Index(i).String()
			}
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case reflect.Struct:
		if s, ok := v.Interface().(fmt.Stringer); ok {
			return s.String()
		}
		if v.Type().PkgPath() == posType.PkgPath() {
			var parts []string
			for _, fc := range fieldChanges(reflect.Zero(v.Type()).Interface(), v.Interface()) {
				parts = append(parts, fc.Name+"="+fc.New)
			}
			return "{" + strings.Join(parts, " ") + "}"
		}
	}
	return fmt.Sprint(v.Interface())
}

// keywords maps Go field names to the config's keywords where the generic conversion
// (CamelCase to snake_case) would not give them.
var keywords = map[string]string{
	"VIPs":             "virtual_ipaddress",
	"VRID":             "virtual_router_id",
	"InitialState":     "state",
	"UnicastPeers":     "unicast_peer",
	"TrackInterfaces":  "track_interface",
	"RouterID":         "router_id",
	"IPVSBackend":      "ipvs_backend",
	"KeepIPVSOnStop":   "keep_ipvs_on_stop",
	"LBAlgo":           "lb_algo",
	"LBKind":           "lb_kind",
	"OPS":              "ops",
	"IPv6":             "ip_family_ipv6",
	"FWMark":           "fwmark",
	"UnicastSrcIP":     "unicast_src_ip",
	"UpperThreshold":   "uthreshold",
	"LowerThreshold":   "lthreshold",
	"Addr":             "address",
	"URLs":             "url",
	"BindTo":           "bindto",
	"ConnectIP":        "connect_ip",
	"EnableSNI":        "enable_sni",
	"PeerMAC":          "peer_mac",
	"SyncID":           "sync_id",
	"VIP":              "vip",
	"GARPMasterDelay":  "garp_master_delay",
	"GARPMasterRepeat": "garp_master_repeat",
	"SchedFallback":    "sh_fallback",
	"SchedPort":        "sh_port",
	"Virtualhost":      "virtualhost",
	"StatusCodes":      "status_code",
}

// keyword turns a Go field name into its config keyword: "DelayBeforeRetry" ->
// "delay_before_retry".
func keyword(field string) string {
	if k, ok := keywords[field]; ok {
		return k
	}
	var b strings.Builder
	rs := []rune(field)
	for i, r := range rs {
		if unicode.IsUpper(r) {
			// A new word starts at an upper-case letter after a lower-case one, or at the
			// last upper-case letter of an acronym followed by a lower-case one.
			if i > 0 && (unicode.IsLower(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1]))) {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
