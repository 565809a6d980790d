// Package convert translates keepalived.conf (keepalived's own syntax, with its include,
// conditional and parameter preprocessing) into lvsd's HCL. Every keyword is either mapped,
// dropped with a warning that says what to use instead, or refused with its position when
// lvsd cannot do what it asks: a converted configuration behaves as the original did, or
// there is no converted configuration.
package convert

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// Options tune a conversion.
type Options struct {
	// ConfigID selects @ID / @^ID lines, as keepalived's -i (--config-id).
	ConfigID string
	// Supported reports whether lvsd's schema has attribute or block name inside the block
	// path (HCL block types from the top, e.g. ["vrrp_instance"]). A keepalived keyword
	// whose lvsd form is missing is refused. Nil: everything is supported.
	Supported func(path []string, name string) bool
	// Env reads environment variables for ${_ENV NAME}; nil: os.Getenv.
	Env func(string) string
}

// Result is a conversion's outcome.
type Result struct {
	HCL   []byte // nil when Refused
	Diags []Diag // warnings and refusals, in file order
	lines map[int]Pos
}

// Source is the keepalived position a line of the HCL came from (zero when unknown).
func (r *Result) Source(line int) Pos { return r.lines[line] }

// Refused reports whether something could not be converted (then HCL is nil).
func (r *Result) Refused() bool {
	for _, d := range r.Diags {
		if d.Refused {
			return true
		}
	}
	return false
}

// File converts the keepalived configuration at path (and every file it includes).
func File(path string, opt Options) *Result {
	env := opt.Env
	if env == nil {
		env = os.Getenv
	}
	p := &preprocessor{configID: opt.ConfigID, env: env, defs: map[string][]string{}}
	p.readFile(path, Pos{}, 0)
	return finish(path, p, opt)
}

// finish parses and maps what the preprocessor read.
func finish(path string, p *preprocessor, opt Options) *Result {
	res := &Result{}
	res.Diags = append(res.Diags, p.diags...)
	if p.stopped || hasRefusal(p.diags) {
		return res
	}
	nodes, diags := parse(p.out)
	res.Diags = append(res.Diags, diags...)
	if hasRefusal(diags) {
		return res
	}
	c := &converter{opt: opt, groups: map[string]*Node{}}
	header := []string{"Converted from " + path + " by lvsd convert."}
	blocks := c.convert(nodes)
	res.Diags = append(res.Diags, c.diags...)
	sortDiags(res.Diags)
	if res.Refused() {
		return res
	}
	res.HCL = render(header, blocks)
	res.lines = sourceLines(res.HCL, blocks)
	return res
}

func hasRefusal(ds []Diag) bool {
	for _, d := range ds {
		if d.Refused {
			return true
		}
	}
	return false
}

// sortDiags orders diagnostics by file and line, keeping the order of one line's.
func sortDiags(ds []Diag) {
	slices.SortStableFunc(ds, func(a, b Diag) int {
		if a.Pos.File != b.Pos.File {
			return strings.Compare(a.Pos.File, b.Pos.File)
		}
		return a.Pos.Line - b.Pos.Line
	})
}

// converter holds one mapping run.
type converter struct {
	opt    Options
	diags  []Diag
	groups map[string]*Node // virtual_server_group by name

	global       *hblock
	instances    []*hblock
	syncDaemon   *hblock
	hasScripts   bool
	scriptSecPos *Pos
	instDefaults map[string]*item // global vrrp_garp_* defaults, by instance keyword
	strict       *Node            // global_defs vrrp_strict
}

func (c *converter) warn(n *Node, format string, args ...any) {
	c.diags = append(c.diags, Diag{Pos: n.Pos, Message: n.Key + ": " + fmt.Sprintf(format, args...)})
}

func (c *converter) refuse(n *Node, format string, args ...any) {
	c.diags = append(c.diags, Diag{Pos: n.Pos, Message: n.Key + ": " + fmt.Sprintf(format, args...), Refused: true})
}

// notSupported refuses a keyword lvsd lacks, in the one-line form users grep for.
func (c *converter) notSupported(n *Node, why string) {
	c.refuse(n, "not supported by lvsd (%s)", why)
}

// supported checks lvsd's schema for the HCL form of a keyword and refuses when absent.
func (c *converter) supported(n *Node, path []string, name string) bool {
	if c.opt.Supported == nil || c.opt.Supported(path, name) {
		return true
	}
	where := "at the top level"
	if len(path) > 0 {
		where = "in " + path[len(path)-1]
	}
	c.notSupported(n, fmt.Sprintf("this lvsd has no %s %s", name, where))
	return false
}

// convert maps the top-level statements.
func (c *converter) convert(nodes []*Node) []*hblock {
	// Groups first: a virtual_server may name a group defined after it.
	for _, n := range nodes {
		if n.Key == "virtual_server_group" {
			if n.Arg(0) == "" || !n.Block {
				c.refuse(n, "needs a name and a { } block")
				continue
			}
			c.groups[n.Arg(0)] = n
		}
	}
	var out []*hblock
	for _, n := range nodes {
		switch n.Key {
		case "global_defs":
			if g := c.globalDefs(n); g != nil {
				out = append(out, g)
			}
		case "vrrp_instance":
			if b := c.vrrpInstance(n); b != nil {
				out = append(out, b)
				c.instances = append(c.instances, b)
			}
		case "vrrp_script":
			if b := c.vrrpScript(n); b != nil {
				out = append(out, b)
			}
		case "vrrp_track_file", "track_file":
			if b := c.trackFile(n); b != nil {
				out = append(out, b)
			}
		case "vrrp_sync_group":
			if b := c.syncGroup(n); b != nil {
				out = append(out, b)
			}
		case "virtual_server":
			out = append(out, c.virtualServer(n)...)
		case "virtual_server_group":
			// expanded where used
		default:
			c.unknown(n, "at the top level")
		}
	}
	c.finish(&out)
	return out
}

// finish applies what can only be known at the end: global per-instance defaults, the
// old per-instance sync daemon keyword, keepalived's script security default.
func (c *converter) finish(out *[]*hblock) {
	for _, inst := range c.instances {
		for key, def := range c.instDefaults {
			if inst.get(key) == nil {
				inst.set(key, def.val, def.pos, "from global_defs vrrp_"+key)
			}
		}
	}
	if c.syncDaemon != nil {
		*out = append(*out, c.syncDaemon)
	}
	if c.hasScripts && c.scriptSecPos == nil && (c.opt.Supported == nil || c.opt.Supported([]string{"global"}, "enable_script_security")) {
		if c.global == nil {
			c.global = &hblock{typ: "global"}
			*out = append([]*hblock{c.global}, *out...)
		}
		c.global.set("enable_script_security", falseVal, Pos{},
			"keepalived's default: scripts run even when writable by others (lvsd's default is true)")
	}
}

// zeroIsDefault are keywords lvsd lacks whose value 0 is keepalived's default (the
// CentOS/RHEL sample keepalived.conf writes vrrp_garp_interval 0 and vrrp_gna_interval 0).
var zeroIsDefault = map[string]bool{
	"vrrp_garp_interval": true, "vrrp_gna_interval": true, "garp_interval": true, "gna_interval": true,
	"vrrp_garp_lower_prio_delay": true, "garp_lower_prio_delay": true,
}

// unknown handles a keyword the mapping does not know in this place: a keepalived keyword
// is refused (it does something lvsd does not do); anything else keepalived itself would
// ignore with a warning, and so does the converter.
func (c *converter) unknown(n *Node, where string) {
	if zeroIsDefault[n.Key] && len(n.Args) == 1 && n.Args[0] == "0" {
		c.warn(n, "dropped: 0 is keepalived's default, and lvsd's behaviour")
		return
	}
	if why, ok := dropped[n.Key]; ok {
		c.warn(n, "dropped: %s", why)
		return
	}
	if why, ok := Unsupported(n.Key); ok {
		c.notSupported(n, why)
		return
	}
	c.warn(n, "unknown keyword %s; keepalived ignores it too, dropped", where)
}

// passThrough writes a keyword the mapping has no rule for when lvsd's schema has an
// attribute of the same name in the same block: lvsd's keywords are keepalived's, so a
// keyword lvsd gains later converts without a change here. A keyword alone is true.
func (c *converter) passThrough(n *Node, b *hblock, path []string) bool {
	if n.Block || c.opt.Supported == nil || !c.opt.Supported(path, n.Key) {
		return false
	}
	switch {
	case len(n.Args) == 0:
		b.set(n.Key, cty.True, n.Pos, n.Comments...)
	case len(n.Args) == 1:
		if v, ok := number(n.Args[0]); ok {
			b.set(n.Key, v, n.Pos, n.Comments...)
		} else {
			b.set(n.Key, cty.StringVal(n.Args[0]), n.Pos, n.Comments...)
		}
	default:
		b.set(n.Key, strList(n.Args), n.Pos, n.Comments...)
	}
	return true
}
