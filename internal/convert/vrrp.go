package convert

import (
	"net/netip"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// maxAuthPass is what a VRRPv2 advert carries; keepalived truncates longer passwords.
const maxAuthPass = 8

// attrs maps simple keywords of a block to their lvsd attribute and value kind.
type attrKind int

const (
	kString attrKind = iota
	kNumber
	kFlag   // keyword alone or with <BOOL>
	kScript // command string, no user/group
	kUpper  // string, upper-cased (enums)
	kLower
)

type attrMap map[string]struct {
	name string
	kind attrKind
}

// simple writes one keyword of a table into b; it reports false when key is not in the table.
func (c *converter) simple(n *Node, b *hblock, path []string, table attrMap) bool {
	m, ok := table[n.Key]
	if !ok {
		return false
	}
	if n.Block {
		c.refuse(n, "takes a value, not a { } block")
		return true
	}
	if !c.supported(n, path, m.name) {
		return true
	}
	var v cty.Value
	switch m.kind {
	case kFlag:
		on, err := boolArg(n)
		if err != nil {
			c.refuse(n, "%v", err)
			return true
		}
		v = cty.BoolVal(on)
	case kNumber:
		num, ok := number(n.Arg(0))
		if !ok {
			c.refuse(n, "want a number, got %q", strings.Join(n.Args, " "))
			return true
		}
		c.extraWords(n)
		v = num
	case kScript:
		cmd, extra := script(n)
		if cmd == "" {
			c.refuse(n, "no command")
			return true
		}
		if len(extra) > 0 {
			c.notSupported(n, "a user and group per script: "+strings.Join(extra, " ")+"; use global_defs script_user")
			return true
		}
		c.hasScripts = true
		v = cty.StringVal(cmd)
	default:
		if len(n.Args) == 0 {
			c.refuse(n, "no value")
			return true
		}
		c.extraWords(n)
		s := n.Arg(0)
		switch m.kind {
		case kUpper:
			s = strings.ToUpper(s)
		case kLower:
			s = strings.ToLower(s)
		}
		v = cty.StringVal(s)
	}
	b.set(m.name, v, n.Pos, n.Comments...)
	return true
}

var globalAttrs = attrMap{
	"router_id":              {"router_id", kString},
	"enable_script_security": {"enable_script_security", kFlag},
	"vrrp_version":           {"vrrp_version", kNumber},
}

// vrrp_garp_* in global_defs are defaults for every instance.
var globalInstanceDefaults = map[string]string{
	"vrrp_garp_master_delay":       "garp_master_delay",
	"vrrp_garp_master_repeat":      "garp_master_repeat",
	"vrrp_garp_master_refresh":     "garp_master_refresh",
	"vrrp_garp_lower_prio_repeat":  "garp_lower_prio_repeat",
	"vrrp_garp_lower_prio_delay":   "garp_lower_prio_delay",
	"vrrp_garp_master_refresh_rep": "garp_master_refresh_repeat",
}

func (c *converter) globalDefs(n *Node) *hblock {
	path := []string{"global"}
	first := c.global == nil
	if first {
		c.global = &hblock{typ: "global", pos: n.Pos, comments: n.Comments}
	}
	g := c.global
	for _, k := range n.Children {
		if c.simple(k, g, path, globalAttrs) {
			if k.Key == "enable_script_security" {
				pos := k.Pos
				c.scriptSecPos = &pos
			}
			continue
		}
		switch k.Key {
		case "script_user":
			if len(k.Args) > 1 {
				c.notSupported(k, "a script group: "+k.Arg(1))
				continue
			}
			if c.supported(k, path, "script_user") {
				g.set("script_user", cty.StringVal(k.Arg(0)), k.Pos, k.Comments...)
			}
		case "lvs_sync_daemon":
			c.globalSyncDaemon(k)
		case "vrrp_strict":
			c.strict = k
			g.note("keepalived vrrp_strict: written as accept_mode = false in every vrrp_instance")
		default:
			if attr, ok := globalInstanceDefaults[k.Key]; ok {
				if !c.supported(k, []string{"vrrp_instance"}, attr) {
					continue
				}
				v, ok := number(k.Arg(0))
				if !ok {
					c.refuse(k, "want a number, got %q", k.Arg(0))
					continue
				}
				if c.instDefaults == nil {
					c.instDefaults = map[string]*item{}
				}
				c.instDefaults[attr] = &item{val: v, pos: k.Pos}
				continue
			}
			if c.passThrough(k, g, path) {
				continue
			}
			if k.Block && dropped[k.Key] != "" {
				c.warn(k, "dropped: %s", dropped[k.Key])
				g.note("keepalived " + k.Key + " { ... } dropped: " + dropped[k.Key])
				continue
			}
			if why, ok := dropped[k.Key]; ok {
				g.note("keepalived " + k.Text() + " dropped: " + why)
			}
			c.unknown(k, "in global_defs")
		}
	}
	if !first {
		return nil
	}
	return g
}

// globalSyncDaemon maps `lvs_sync_daemon IFACE INSTANCE [id N] [maxlen N] [port N] [ttl N] [group IP]`.
func (c *converter) globalSyncDaemon(n *Node) {
	if len(n.Args) < 2 {
		c.warn(n, "dropped: keepalived ignores it without a VRRP instance (lvs_sync_daemon INTERFACE VRRP_INSTANCE [id N])")
		return
	}
	b := c.newSyncDaemon(n)
	if b == nil {
		return
	}
	b.set("interface", cty.StringVal(n.Arg(0)), n.Pos)
	b.set("vrrp_instance", cty.StringVal(n.Arg(1)), n.Pos)
	for i := 2; i < len(n.Args); i += 2 {
		switch n.Args[i] {
		case "id":
			v, ok := number(n.Arg(i + 1))
			if !ok {
				c.refuse(n, "id: want a number, got %q", n.Arg(i+1))
				return
			}
			b.set("sync_id", v, n.Pos)
		default:
			c.notSupported(n, "sync daemon option "+n.Args[i])
			return
		}
	}
}

func (c *converter) newSyncDaemon(n *Node) *hblock {
	if c.syncDaemon != nil {
		c.notSupported(n, "a second IPVS sync daemon (first at "+c.syncDaemon.pos.String()+")")
		return nil
	}
	if !c.supported(n, nil, "lvs_sync_daemon") {
		return nil
	}
	c.syncDaemon = &hblock{typ: "lvs_sync_daemon", pos: n.Pos, comments: n.Comments}
	return c.syncDaemon
}

var instanceAttrs = attrMap{
	"interface":              {"interface", kString},
	"virtual_router_id":      {"virtual_router_id", kNumber},
	"priority":               {"priority", kNumber},
	"advert_int":             {"advert_int", kNumber},
	"preempt_delay":          {"preempt_delay", kNumber},
	"unicast_src_ip":         {"unicast_src_ip", kString},
	"garp_master_delay":      {"garp_master_delay", kNumber},
	"garp_master_repeat":     {"garp_master_repeat", kNumber},
	"garp_master_refresh":    {"garp_master_refresh", kNumber},
	"garp_lower_prio_repeat": {"garp_lower_prio_repeat", kNumber},
	"notify_master":          {"notify_master", kScript},
	"notify_backup":          {"notify_backup", kScript},
	"notify_fault":           {"notify_fault", kScript},
	"notify_stop":            {"notify_stop", kScript},
	"notify":                 {"notify", kScript},
	"version":                {"vrrp_version", kNumber},
}

func (c *converter) vrrpInstance(n *Node) *hblock {
	if len(n.Args) != 1 || !n.Block {
		c.refuse(n, "want vrrp_instance NAME { ... }")
		return nil
	}
	path := []string{"vrrp_instance"}
	b := &hblock{typ: "vrrp_instance", labels: []string{n.Arg(0)}, pos: n.Pos, comments: n.Comments}
	var nopreempt, strict *Node
	master := false
	for _, k := range n.Children {
		if c.simple(k, b, path, instanceAttrs) {
			continue
		}
		switch k.Key {
		case "state":
			s := strings.ToUpper(k.Arg(0))
			if s != "MASTER" && s != "BACKUP" {
				c.refuse(k, "want MASTER or BACKUP, got %q", k.Arg(0))
				continue
			}
			master = s == "MASTER"
			b.set("state", cty.StringVal(s), k.Pos, k.Comments...)
		case "nopreempt":
			nopreempt = k
		case "strict_mode":
			if on, err := boolArg(k); err == nil && on {
				strict = k
			}
		case "accept", "no_accept":
			if c.supported(k, path, "accept_mode") {
				b.set("accept_mode", cty.BoolVal(k.Key == "accept"), k.Pos, k.Comments...)
			}
		case "authentication":
			c.authentication(k, b)
		case "virtual_ipaddress", "virtual_ipaddress_excluded":
			if c.supported(k, path, k.Key) {
				b.appendList(k.Key, c.vips(k), k.Pos)
			}
		case "unicast_peer":
			if c.supported(k, path, "unicast_peer") {
				b.appendList("unicast_peer", c.peers(k), k.Pos)
			}
		case "track_interface", "track_script", "track_file":
			if c.supported(k, path, k.Key) {
				b.appendList(k.Key, c.tracks(k), k.Pos)
			}
		case "lvs_sync_daemon_interface":
			if s := c.newSyncDaemon(k); s != nil {
				s.set("interface", cty.StringVal(k.Arg(0)), k.Pos)
				s.set("vrrp_instance", cty.StringVal(n.Arg(0)), k.Pos)
			}
		default:
			if c.passThrough(k, b, path) {
				continue
			}
			if why, ok := dropped[k.Key]; ok {
				b.note("keepalived " + k.Text() + " dropped: " + why)
			}
			c.unknown(k, "in vrrp_instance")
		}
	}
	if nopreempt != nil {
		if master {
			b.note("keepalived ignores nopreempt with state MASTER: preemption stays on")
			c.warn(nopreempt, "ignored with state MASTER (keepalived clears it too); preemption stays on")
		} else if c.supported(nopreempt, path, "preempt") {
			b.set("preempt", falseVal, nopreempt.Pos, nopreempt.Comments...)
		}
	}
	if strict == nil {
		strict = c.strict
	}
	if strict != nil && c.supported(strict, path, "accept_mode") {
		if it := b.get("accept_mode"); it != nil && it.val.True() {
			c.diags = append(c.diags, Diag{Pos: it.pos, Message: "accept: ignored in strict mode, as keepalived does"})
		}
		// Strict mode forbids accept mode: keepalived drops traffic to the VIPs of a
		// non-owner master, which lvsd does with accept_mode = false.
		b.set("accept_mode", falseVal, strict.Pos, "keepalived's "+strict.Key+": no accept mode, traffic to the VIPs is dropped while MASTER (remove this line if you did not mean that)")
	}
	c.vipFamilies(n, b)
	if master {
		if it := b.get("preempt_delay"); it != nil {
			b.items = deleteItem(b.items, it)
			b.note("keepalived ignores preempt_delay with state MASTER")
			c.diags = append(c.diags, Diag{Pos: it.pos, Message: "preempt_delay: ignored with state MASTER (keepalived clears it too)"})
		}
	}
	return b
}

func deleteItem(items []*item, it *item) []*item {
	out := items[:0]
	for _, x := range items {
		if x != it {
			out = append(out, x)
		}
	}
	return out
}

func (c *converter) authentication(n *Node, inst *hblock) {
	path := []string{"vrrp_instance", "authentication"}
	if !c.supported(n, path[:1], "authentication") {
		return
	}
	b := &hblock{typ: "authentication", pos: n.Pos, comments: n.Comments}
	for _, k := range n.Children {
		switch k.Key {
		case "auth_type":
			t := strings.ToUpper(k.Arg(0))
			if t == "AH" {
				c.notSupported(k, "IPsec AH authentication")
				return
			}
			if t != "PASS" {
				c.refuse(k, "want PASS or AH, got %q", k.Arg(0))
				return
			}
			b.set("auth_type", cty.StringVal(t), k.Pos, k.Comments...)
		case "auth_pass":
			pass := k.Arg(0)
			var notes []string
			if len(pass) > maxAuthPass {
				notes = append(notes, "keepalived and lvsd use only the first 8 characters: \""+pass[:maxAuthPass]+"\"")
				c.warn(k, "longer than %d characters: truncated to %q, as keepalived does", maxAuthPass, pass[:maxAuthPass])
			}
			b.set("auth_pass", cty.StringVal(pass), k.Pos, append(k.Comments, notes...)...)
		default:
			c.unknown(k, "in authentication")
		}
	}
	inst.add(b)
}

// vips reads virtual_ipaddress lines: ADDR[/LEN] [brd X] [dev D] [scope S] [label L].
func (c *converter) vips(n *Node) []string {
	var out []string
	for _, l := range c.listLines(n) {
		f := append([]string{l.Key}, l.Args...)
		vip := f[0]
		var dev, label string
		ok := true
		for i := 1; i < len(f) && ok; i += 2 {
			val := ""
			if i+1 < len(f) {
				val = f[i+1]
			}
			switch f[i] {
			case "dev":
				dev = val
			case "label":
				label = val
			case "brd", "broadcast":
				c.warn(l, "brd %s dropped: lvsd lets the kernel compute the broadcast address", val)
			case "scope":
				if val != "global" {
					c.notSupported(l, "VIP scope "+val)
					ok = false
				}
			case "no_track":
				i-- // flag without a value
				c.notSupported(l, "no_track on a VIP")
				ok = false
			default:
				c.notSupported(l, "VIP option "+f[i])
				ok = false
			}
		}
		if !ok {
			continue
		}
		s := vip
		if dev != "" {
			s += " dev " + dev
		}
		if label != "" {
			s += " label " + label
		}
		out = append(out, s)
	}
	return out
}

// listLines returns the lines of a list block (or the values after the keyword written on
// its own line, as `unicast_peer 10.0.0.2` is sometimes written).
func (c *converter) listLines(n *Node) []*Node {
	if !n.Block {
		if len(n.Args) == 0 {
			return nil
		}
		return []*Node{{Key: n.Arg(0), Args: n.Args[1:], Pos: n.Pos}}
	}
	var out []*Node
	for _, k := range n.Children {
		if k.Block {
			c.refuse(k, "unexpected { } block in %s", n.Key)
			continue
		}
		out = append(out, k)
	}
	return out
}

func (c *converter) peers(n *Node) []string {
	var out []string
	for _, l := range c.listLines(n) {
		if len(l.Args) > 0 {
			c.notSupported(l, "unicast peer options ("+strings.Join(l.Args, " ")+")")
			continue
		}
		out = append(out, l.Key)
	}
	return out
}

// tracks reads track_interface / track_script / track_file lines: NAME [weight N [reverse]].
func (c *converter) tracks(n *Node) []string {
	var out []string
	for _, l := range c.listLines(n) {
		switch {
		case len(l.Args) == 0:
			out = append(out, l.Key)
		case len(l.Args) == 2 && l.Args[0] == "weight":
			if _, ok := number(l.Args[1]); !ok {
				c.refuse(l, "weight: want a number, got %q", l.Args[1])
				continue
			}
			out = append(out, l.Key+" weight "+l.Args[1])
		case len(l.Args) == 3 && l.Args[0] == "weight" && l.Args[2] == "reverse":
			c.notSupported(l, "reverse weights")
		default:
			c.refuse(l, "want NAME [weight N], got %q", l.Text())
		}
	}
	return out
}

var scriptAttrs = attrMap{
	"interval":  {"interval", kNumber},
	"timeout":   {"timeout", kNumber},
	"rise":      {"rise", kNumber},
	"fall":      {"fall", kNumber},
	"init_fail": {"init_fail", kFlag},
}

func (c *converter) vrrpScript(n *Node) *hblock {
	if len(n.Args) != 1 || !n.Block {
		c.refuse(n, "want vrrp_script NAME { ... }")
		return nil
	}
	if !c.supported(n, nil, "vrrp_script") {
		return nil
	}
	path := []string{"vrrp_script"}
	b := &hblock{typ: "vrrp_script", labels: []string{n.Arg(0)}, pos: n.Pos, comments: n.Comments}
	for _, k := range n.Children {
		if c.simple(k, b, path, scriptAttrs) {
			continue
		}
		switch k.Key {
		case "script":
			cmd, extra := script(k)
			if cmd == "" {
				c.refuse(k, "no command")
				continue
			}
			if len(extra) > 0 {
				c.warn(k, "keepalived runs %q only and ignores %q: quote the whole command", cmd, strings.Join(extra, " "))
				b.note("keepalived runs only the first word of an unquoted script line")
			}
			c.hasScripts = true
			b.set("script", cty.StringVal(cmd), k.Pos, k.Comments...)
		case "weight":
			if len(k.Args) > 1 && k.Args[1] == "reverse" {
				c.notSupported(k, "reverse weights")
				continue
			}
			c.simple(k, b, path, attrMap{"weight": {"weight", kNumber}})
		case "user":
			if len(k.Args) > 1 {
				c.notSupported(k, "a script group: "+k.Arg(1))
				continue
			}
			c.simple(k, b, path, attrMap{"user": {"user", kString}})
		default:
			if !c.passThrough(k, b, path) {
				c.unknown(k, "in vrrp_script")
			}
		}
	}
	return b
}

func (c *converter) trackFile(n *Node) *hblock {
	if len(n.Args) != 1 || !n.Block {
		c.refuse(n, "want %s NAME { ... }", n.Key)
		return nil
	}
	if !c.supported(n, nil, "vrrp_track_file") {
		return nil
	}
	path := []string{"vrrp_track_file"}
	b := &hblock{typ: "vrrp_track_file", labels: []string{n.Arg(0)}, pos: n.Pos, comments: n.Comments}
	for _, k := range n.Children {
		switch k.Key {
		case "file":
			c.simple(k, b, path, attrMap{"file": {"file", kString}})
		case "weight":
			if len(k.Args) > 1 && k.Args[1] == "reverse" {
				c.notSupported(k, "reverse weights")
				continue
			}
			c.simple(k, b, path, attrMap{"weight": {"weight", kNumber}})
		default:
			if !c.passThrough(k, b, path) {
				c.unknown(k, "in "+n.Key)
			}
		}
	}
	return b
}

var syncGroupAttrs = attrMap{
	"notify_master": {"notify_master", kScript},
	"notify_backup": {"notify_backup", kScript},
	"notify_fault":  {"notify_fault", kScript},
	"notify_stop":   {"notify_stop", kScript},
	"notify":        {"notify", kScript},
}

func (c *converter) syncGroup(n *Node) *hblock {
	if len(n.Args) != 1 || !n.Block {
		c.refuse(n, "want vrrp_sync_group NAME { ... }")
		return nil
	}
	if !c.supported(n, nil, "vrrp_sync_group") {
		return nil
	}
	path := []string{"vrrp_sync_group"}
	b := &hblock{typ: "vrrp_sync_group", labels: []string{n.Arg(0)}, pos: n.Pos, comments: n.Comments}
	for _, k := range n.Children {
		if c.simple(k, b, path, syncGroupAttrs) {
			continue
		}
		switch k.Key {
		case "group":
			if c.supported(k, path, "group") {
				var names []string
				for _, l := range c.listLines(k) {
					names = append(names, append([]string{l.Key}, l.Args...)...)
				}
				b.appendList("group", names, k.Pos)
			}
		case "track_script":
			if c.supported(k, path, k.Key) {
				b.appendList(k.Key, c.tracks(k), k.Pos)
			}
		default:
			if c.passThrough(k, b, path) {
				continue
			}
			if why, ok := dropped[k.Key]; ok {
				b.note("keepalived " + k.Text() + " dropped: " + why)
			}
			c.unknown(k, "in vrrp_sync_group")
		}
	}
	if b.get("group") == nil {
		c.warn(n, "dropped: no group { } of instances (keepalived drops such a sync group too)")
		return nil
	}
	return b
}

// addrLabel formats IP and port as lvsd's "IP:PORT" / "[v6]:PORT" label.
func addrLabel(ip, port string) string {
	if a, err := netip.ParseAddr(ip); err == nil && a.Is6() && !a.Is4In6() {
		return "[" + ip + "]:" + port
	}
	return ip + ":" + port
}

// vipFamilies applies keepalived's rules for address families: an instance has the family
// of its first VIP, VIPs of the other family are treated as virtual_ipaddress_excluded,
// and an IPv6 instance speaks VRRPv3.
func (c *converter) vipFamilies(n *Node, b *hblock) {
	it := b.get("virtual_ipaddress")
	if it == nil || it.val.LengthInt() == 0 {
		return
	}
	var keep, other []string
	v6 := false
	for i, v := range it.val.AsValueSlice() {
		s := v.AsString()
		first, _, _ := strings.Cut(s, " ")
		addr, _, _ := strings.Cut(first, "/")
		a, err := netip.ParseAddr(addr)
		is6 := err == nil && a.Is6() && !a.Is4In6()
		if i == 0 {
			v6 = is6
		}
		if err == nil && is6 != v6 {
			other = append(other, s)
			continue
		}
		keep = append(keep, s)
	}
	if len(other) > 0 {
		if !c.supported(n, []string{"vrrp_instance"}, "virtual_ipaddress_excluded") {
			return
		}
		it.val = strList(keep)
		b.appendList("virtual_ipaddress_excluded", other, it.pos)
		it.comments = append(it.comments, "keepalived treats VIPs of the other address family as excluded: "+strings.Join(other, ", "))
		c.diags = append(c.diags, Diag{Pos: it.pos, Message: "virtual_ipaddress: " + strings.Join(other, ", ") + ": other address family than the instance's, moved to virtual_ipaddress_excluded as keepalived does"})
	}
	if v6 && b.get("vrrp_version") == nil && c.supported(n, []string{"vrrp_instance"}, "vrrp_version") {
		b.set("vrrp_version", cty.NumberIntVal(3), n.Pos, "keepalived runs IPv6 instances as VRRPv3")
	}
}

// extraWords warns about words after a keyword's value, which keepalived ignores.
func (c *converter) extraWords(n *Node) {
	if len(n.Args) > 1 {
		c.warn(n, "%q ignored after the value, as keepalived does", strings.Join(n.Args[1:], " "))
	}
}
