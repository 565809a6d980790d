package convert

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// maxGroupExpansion bounds the virtual servers one virtual_server_group may stand for.
const maxGroupExpansion = 1024

var vsAttrs = attrMap{
	"delay_loop":              {"delay_loop", kNumber},
	"lb_algo":                 {"lb_algo", kLower},
	"lvs_sched":               {"lb_algo", kLower},
	"lb_kind":                 {"lb_kind", kUpper},
	"lvs_method":              {"lb_kind", kUpper},
	"persistence_timeout":     {"persistence_timeout", kNumber},
	"persistence_granularity": {"persistence_granularity", kString},
	"protocol":                {"protocol", kUpper},
	"quorum":                  {"quorum", kNumber},
	"hysteresis":              {"hysteresis", kNumber},
	"quorum_up":               {"quorum_up", kScript},
	"quorum_down":             {"quorum_down", kScript},
	"alpha":                   {"alpha", kFlag},
	"inhibit_on_failure":      {"inhibit_on_failure", kFlag},
	"virtualhost":             {"virtualhost", kString},
	"ops":                     {"ops", kFlag},
	"sh-port":                 {"sh_port", kFlag},
	"sh-fallback":             {"sh_fallback", kFlag},
	"mh-port":                 {"mh_port", kFlag},
	"mh-fallback":             {"mh_fallback", kFlag},
	"ip_family":               {"ip_family", kLower},
	"connect_timeout":         {"connect_timeout", kNumber},
	"retry":                   {"retry", kNumber},
	"nb_get_retry":            {"retry", kNumber},
	"delay_before_retry":      {"delay_before_retry", kNumber},
	"warmup":                  {"warmup", kNumber},
}

// virtualServer maps `virtual_server IP PORT`, `virtual_server fwmark N` and
// `virtual_server group NAME` (one block per address of the group).
func (c *converter) virtualServer(n *Node) []*hblock {
	if !n.Block {
		c.refuse(n, "needs a { } block")
		return nil
	}
	var labels []string
	var extra []*item // attributes the group entry implies (fwmark family)
	switch {
	case len(n.Args) == 2 && n.Args[0] == "fwmark":
		labels = []string{"fwmark:" + n.Args[1]}
	case len(n.Args) == 2 && n.Args[0] == "group":
		g, ok := c.groups[n.Args[1]]
		if !ok {
			c.refuse(n, "virtual_server_group %q is not defined", n.Args[1])
			return nil
		}
		labels = c.expandGroup(g)
		if len(labels) == 0 {
			return nil
		}
	case len(n.Args) == 2:
		if _, err := netip.ParseAddr(n.Args[0]); err != nil {
			c.refuse(n, "%q is not an IP address", n.Args[0])
			return nil
		}
		labels = []string{addrLabel(n.Args[0], n.Args[1])}
	default:
		c.refuse(n, "want virtual_server IP PORT, fwmark N or group NAME, got %q", n.Text())
		return nil
	}
	_ = extra
	var out []*hblock
	for i, label := range labels {
		b := &hblock{typ: "virtual_server", labels: []string{label}, pos: n.Pos}
		if i == 0 {
			b.comments = n.Comments
		}
		if len(labels) > 1 {
			b.comments = append(b.comments, fmt.Sprintf("from virtual_server group %s (%d of %d)", n.Args[1], i+1, len(labels)))
		}
		c.vsBody(n, b, i == 0)
		out = append(out, b)
	}
	return out
}

// vsBody maps the body of a virtual_server into b; report is false for the copies made
// for a group's further addresses, so that each problem is reported once.
func (c *converter) vsBody(n *Node, b *hblock, report bool) {
	saved := len(c.diags)
	path := []string{"virtual_server"}
	for _, k := range n.Children {
		if k.Key == "sorry_server" {
			if len(k.Args) == 0 || len(k.Args) > 2 {
				c.refuse(k, "want IP [PORT]")
				continue
			}
			label := k.Arg(0)
			if len(k.Args) == 2 {
				label = addrLabel(k.Arg(0), k.Arg(1))
			}
			b.set("sorry_server", cty.StringVal(label), k.Pos, k.Comments...)
			continue
		}
		if k.Key == "lb_kind" || k.Key == "lvs_method" {
			if strings.EqualFold(k.Arg(0), "TUNNEL") {
				k = &Node{Key: k.Key, Args: []string{"TUN"}, Pos: k.Pos, Comments: k.Comments}
			}
		}
		if c.simple(k, b, path, vsAttrs) {
			continue
		}
		switch k.Key {
		case "real_server":
			if rs := c.realServer(k); rs != nil {
				b.add(rs)
			}
		default:
			if c.passThrough(k, b, path) {
				continue
			}
			if why, ok := dropped[k.Key]; ok {
				b.note("keepalived " + k.Text() + " dropped: " + why)
			}
			c.unknown(k, "in virtual_server")
		}
	}
	if !report {
		c.diags = c.diags[:saved]
	}
}

// expandGroup lists the virtual server labels a virtual_server_group stands for:
// `IP PORT`, `IP-LAST PORT` ranges (last octet or group) and `fwmark N`.
func (c *converter) expandGroup(g *Node) []string {
	var out []string
	for _, l := range g.Children {
		f := append([]string{l.Key}, l.Args...)
		switch {
		case len(f) == 2 && f[0] == "fwmark":
			out = append(out, "fwmark:"+f[1])
		case len(f) == 2:
			addrs, err := ipRange(f[0])
			if err != nil {
				c.refuse(l, "%v", err)
				return nil
			}
			if len(out)+len(addrs) > maxGroupExpansion {
				c.notSupported(g, fmt.Sprintf("a group of more than %d addresses", maxGroupExpansion))
				return nil
			}
			for _, a := range addrs {
				out = append(out, addrLabel(a, f[1]))
			}
		case len(f) == 1:
			c.notSupported(l, "a group entry without a port")
			return nil
		default:
			c.refuse(l, "want IP PORT, IP-LAST PORT or fwmark N, got %q", l.Text())
			return nil
		}
	}
	if len(out) == 0 {
		c.refuse(g, "empty group")
	}
	return out
}

// ipRange expands "10.0.0.1-10" (IPv4: last byte; IPv6: last group, hex) into addresses.
func ipRange(s string) ([]string, error) {
	first, last, isRange := strings.Cut(s, "-")
	a, err := netip.ParseAddr(first)
	if err != nil {
		return nil, fmt.Errorf("%q is not an IP address", first)
	}
	if !isRange {
		return []string{first}, nil
	}
	base := 10
	if a.Is6() {
		base = 16
	}
	end, err := strconv.ParseUint(last, base, 16)
	if err != nil {
		return nil, fmt.Errorf("%q: bad range end %q", s, last)
	}
	var out []string
	for cur := a; ; cur = cur.Next() {
		b := cur.AsSlice()
		var low uint64
		if a.Is4() {
			low = uint64(b[3])
		} else {
			low = uint64(b[14])<<8 | uint64(b[15])
		}
		if low > end || !cur.IsValid() {
			break
		}
		out = append(out, cur.String())
		if len(out) > maxGroupExpansion {
			break
		}
		if (a.Is4() && low == 255) || (a.Is6() && low == 0xffff) {
			break
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%q: empty range", s)
	}
	return out, nil
}

var rsAttrs = attrMap{
	"weight":             {"weight", kNumber},
	"inhibit_on_failure": {"inhibit_on_failure", kFlag},
	"notify_up":          {"notify_up", kScript},
	"notify_down":        {"notify_down", kScript},
	"uthreshold":         {"uthreshold", kNumber},
	"lthreshold":         {"lthreshold", kNumber},
	"virtualhost":        {"virtualhost", kString},
	"connect_timeout":    {"connect_timeout", kNumber},
	"retry":              {"retry", kNumber},
	"nb_get_retry":       {"retry", kNumber},
	"delay_before_retry": {"delay_before_retry", kNumber},
	"warmup":             {"warmup", kNumber},
	"delay_loop":         {"delay_loop", kNumber},
}

var checkKinds = map[string]string{
	"TCP_CHECK":  "tcp_check",
	"HTTP_GET":   "http_get",
	"SSL_GET":    "ssl_get",
	"MISC_CHECK": "misc_check",
}

func (c *converter) realServer(n *Node) *hblock {
	if len(n.Args) < 1 || len(n.Args) > 2 {
		c.refuse(n, "want real_server IP [PORT]")
		return nil
	}
	if _, err := netip.ParseAddr(n.Arg(0)); err != nil {
		c.refuse(n, "%q is not an IP address", n.Arg(0))
		return nil
	}
	label := n.Arg(0)
	if len(n.Args) == 2 {
		label = addrLabel(n.Arg(0), n.Arg(1))
	}
	path := []string{"virtual_server", "real_server"}
	b := &hblock{typ: "real_server", labels: []string{label}, pos: n.Pos, comments: n.Comments}
	for _, k := range n.Children {
		if c.simple(k, b, path, rsAttrs) {
			continue
		}
		kind, ok := checkKinds[strings.ToUpper(k.Key)]
		if !ok {
			if c.passThrough(k, b, path) {
				continue
			}
			if why, ok := dropped[k.Key]; ok {
				b.note("keepalived " + k.Text() + " dropped: " + why)
			}
			c.unknown(k, "in real_server")
			continue
		}
		if !c.supported(k, path, kind) {
			continue
		}
		if chk := c.check(k, kind, append(path, kind)); chk != nil {
			b.add(chk)
		}
	}
	return b
}

var checkAttrs = attrMap{
	"connect_timeout":    {"connect_timeout", kNumber},
	"connect_port":       {"connect_port", kNumber},
	"connect_ip":         {"connect_ip", kString},
	"bindto":             {"bindto", kString},
	"retry":              {"retry", kNumber},
	"nb_get_retry":       {"retry", kNumber},
	"delay_before_retry": {"delay_before_retry", kNumber},
	"warmup":             {"warmup", kNumber},
	"delay_loop":         {"delay_loop", kNumber},
	"virtualhost":        {"virtualhost", kString},
	"enable_sni":         {"enable_sni", kFlag},
}

var miscAttrs = attrMap{
	"misc_path":          {"misc_path", kScript},
	"misc_timeout":       {"misc_timeout", kNumber},
	"misc_dynamic":       {"misc_dynamic", kFlag},
	"retry":              {"retry", kNumber},
	"nb_get_retry":       {"retry", kNumber},
	"delay_before_retry": {"delay_before_retry", kNumber},
	"warmup":             {"warmup", kNumber},
	"delay_loop":         {"delay_loop", kNumber},
}

func (c *converter) check(n *Node, kind string, path []string) *hblock {
	b := &hblock{typ: kind, pos: n.Pos, comments: n.Comments}
	table := checkAttrs
	if kind == "misc_check" {
		table = miscAttrs
	}
	for _, k := range n.Children {
		if (kind == "tcp_check" || kind == "misc_check") && k.Key == "virtualhost" {
			c.unknown(k, "in "+n.Key)
			continue
		}
		if k.Key == "enable_sni" && kind != "ssl_get" {
			c.unknown(k, "in "+n.Key)
			continue
		}
		if c.simple(k, b, path, table) {
			continue
		}
		switch {
		case k.Key == "url" && (kind == "http_get" || kind == "ssl_get"):
			if u := c.url(k, append(path, "url")); u != nil {
				b.add(u)
			}
		case k.Key == "user" && kind == "misc_check":
			c.notSupported(k, "a user per check script; use global_defs script_user")
		default:
			if c.passThrough(k, b, path) {
				continue
			}
			if why, ok := dropped[k.Key]; ok {
				b.note("keepalived " + k.Text() + " dropped: " + why)
			}
			c.unknown(k, "in "+n.Key)
		}
	}
	return b
}

func (c *converter) url(n *Node, path []string) *hblock {
	b := &hblock{typ: "url", pos: n.Pos, comments: n.Comments}
	for _, k := range n.Children {
		switch k.Key {
		case "path", "digest", "virtualhost":
			c.simple(k, b, path, attrMap{k.Key: {k.Key, kString}})
		case "status_code":
			if len(k.Args) == 1 {
				if v, ok := number(k.Arg(0)); ok {
					b.set("status_code", v, k.Pos, k.Comments...)
					continue
				}
				b.set("status_code", cty.StringVal(k.Arg(0)), k.Pos, k.Comments...)
				continue
			}
			b.set("status_code", strList(k.Args), k.Pos, k.Comments...)
		default:
			c.unknown(k, "in url")
		}
	}
	return b
}
