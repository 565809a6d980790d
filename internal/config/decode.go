package config

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// The first stage decodes HCL into a plain tree (rawBlock), checking only structure against
// the schema below: unknown keywords, labels, required attributes, blocks allowed once. Every
// attribute keeps the source range of its value so that the typed stage (build.go) can point
// at the exact place of each problem. gohcl is not used because it drops those ranges.

// blockSchema describes what may appear inside one kind of block.
type blockSchema struct {
	label    string   // "" = no label; else what the single label is, e.g. "NAME"
	attrs    []string // allowed attributes
	required []string // required attributes
	blocks   map[string]*blockSchema
	once     []string // child block types allowed at most once
}

// Attributes common to every checker except misc_check, and inherited from the real server
// and the virtual server (keepalived lets them be set at each level).
var checkTiming = []string{"retry", "delay_before_retry", "warmup", "delay_loop"}
var checkConnect = []string{"connect_ip", "connect_port", "bindto", "connect_timeout"}

var urlSchema = &blockSchema{attrs: []string{"path", "status_code", "digest", "virtualhost"}, required: []string{"path"}}

func checkSchema(extra []string, connect bool, url bool) *blockSchema {
	s := &blockSchema{attrs: slices.Concat(checkTiming, extra)}
	if connect {
		s.attrs = append(s.attrs, checkConnect...)
	}
	if url {
		s.blocks = map[string]*blockSchema{"url": urlSchema}
	}
	return s
}

var realServerSchema = &blockSchema{
	label: "ADDRESS[:PORT]",
	attrs: slices.Concat([]string{"weight", "inhibit_on_failure", "notify_up", "notify_down",
		"uthreshold", "lthreshold", "virtualhost", "connect_timeout"}, checkTiming),
	blocks: map[string]*blockSchema{
		"tcp_check":  checkSchema(nil, true, false),
		"http_get":   checkSchema([]string{"virtualhost"}, true, true),
		"ssl_get":    checkSchema([]string{"virtualhost", "enable_sni"}, true, true),
		"misc_check": {attrs: slices.Concat(checkTiming, []string{"misc_path", "misc_timeout", "misc_dynamic"}), required: []string{"misc_path"}},
	},
}

var topSchema = &blockSchema{
	blocks: map[string]*blockSchema{
		"global": {attrs: slices.Concat([]string{"router_id", "control_socket", "keep_ipvs_on_stop", "reconcile_interval", "ipvs_backend", "vrrp_version", "metrics_listen"}, trackGlobalAttrs)},
		"vrrp_instance": {
			label: "NAME",
			attrs: slices.Concat([]string{"state", "interface", "virtual_router_id", "priority", "advert_int",
				"preempt", "preempt_delay", "virtual_ipaddress", "unicast_src_ip", "unicast_peer",
				"track_interface", "garp_master_delay", "garp_master_repeat", "notify_master",
				"notify_backup", "notify_fault", "notify_stop", "notify",
				"vrrp_version", "virtual_ipaddress_excluded", "accept_mode"}, trackInstanceAttrs),
			required: []string{"interface", "virtual_router_id"},
			blocks: map[string]*blockSchema{
				"authentication": {attrs: []string{"auth_type", "auth_pass"}, required: []string{"auth_type"}},
			},
			once: []string{"authentication"},
		},
		"virtual_server": {
			label: "ADDRESS:PORT|fwmark:N",
			attrs: slices.Concat([]string{"protocol", "lb_algo", "lb_kind", "persistence_timeout",
				"persistence_granularity", "sorry_server", "quorum", "hysteresis", "quorum_up", "quorum_down", "alpha",
				"inhibit_on_failure", "virtualhost", "ip_family", "sh_port", "sh_fallback", "mh_port",
				"mh_fallback", "ops", "connect_timeout"}, checkTiming),
			blocks: map[string]*blockSchema{"real_server": realServerSchema},
		},
		"localnode": {
			label:    "NAME",
			attrs:    []string{"vrrp_instance", "mode", "vip", "port", "protocol", "peer_mac", "fwmark"},
			required: []string{"vrrp_instance", "mode"},
		},
		"lvs_sync_daemon": {
			attrs:    []string{"interface", "vrrp_instance", "sync_id"},
			required: []string{"interface", "vrrp_instance"},
		},
		"vrrp_script":     vrrpScriptSchema,
		"vrrp_track_file": trackFileSchema,
		"vrrp_sync_group": syncGroupSchema,
	},
}

// hints name our keyword for keepalived spellings that the edit distance would not find.
var hints = map[string]string{
	"nb_get_retry":      `"retry"`,
	"lvs_sched":         `"lb_algo"`,
	"lvs_method":        `"lb_kind"`,
	"nopreempt":         `"preempt = false"`,
	"global_defs":       `"global"`,
	"virtual_server_id": `"virtual_router_id"`,
	"vrid":              `"virtual_router_id"`,
	"vip":               `"virtual_ipaddress"`,
	"vips":              `"virtual_ipaddress"`,
	"unicast_peers":     `"unicast_peer"`,
	"url_path":          `"url { path = ... }"`,
	"timeout":           `"connect_timeout"`,
	"status":            `"status_code"`,
}

type rawAttr struct {
	Name      string
	NameRange hcl.Range
	Range     hcl.Range   // the value's
	Elems     []hcl.Range // a list's elements', when written as a list
	Value     cty.Value
}

type rawBlock struct {
	Type        string
	Labels      []string
	TypeRange   hcl.Range
	LabelRanges []hcl.Range
	Range       hcl.Range // whole block
	Attrs       map[string]*rawAttr
	Blocks      []*rawBlock
	bad         map[string]bool // attributes present but rejected (already reported)
}

// markBad records that attribute name is present but was rejected.
func (b *rawBlock) markBad(name string) {
	if b.bad == nil {
		b.bad = map[string]bool{} // rare: most blocks never need it
	}
	b.bad[name] = true
}

// shift moves every position in b and its children by lines and bytes: the block's item
// was found unchanged at another place of its file. Columns stay: items start lines.
func (b *rawBlock) shift(lines, bytes int) {
	move := func(r *hcl.Range) {
		r.Start.Line += lines
		r.End.Line += lines
		r.Start.Byte += bytes
		r.End.Byte += bytes
	}
	move(&b.TypeRange)
	move(&b.Range)
	for i := range b.LabelRanges {
		move(&b.LabelRanges[i])
	}
	for _, a := range b.Attrs {
		move(&a.NameRange)
		move(&a.Range)
		for i := range a.Elems {
			move(&a.Elems[i])
		}
	}
	for _, c := range b.Blocks {
		c.shift(lines, bytes)
	}
}

// what names the block in messages: `vrrp_instance "VI_1"`, `global`.
func (b *rawBlock) what() string {
	if len(b.Labels) == 1 {
		return fmt.Sprintf("%s %q", b.Type, b.Labels[0])
	}
	return b.Type
}

func (b *rawBlock) children(typ string) []*rawBlock {
	var out []*rawBlock
	for _, c := range b.Blocks {
		if c.Type == typ {
			out = append(out, c)
		}
	}
	return out
}

// decodeBody fills out from body according to sch, reporting structural problems.
func (s *sink) decodeBody(body *hclsyntax.Body, sch *blockSchema, out *rawBlock) {
	out.Attrs = make(map[string]*rawAttr, len(body.Attributes))
	where := "at the top level"
	if out.Type != "" {
		where = "in " + out.what()
	}
	attrs := make([]*hclsyntax.Attribute, 0, len(body.Attributes))
	for _, a := range body.Attributes {
		attrs = append(attrs, a)
	}
	sort.Slice(attrs, func(i, j int) bool { return attrs[i].SrcRange.Start.Byte < attrs[j].SrcRange.Start.Byte })
	for _, a := range attrs {
		if !slices.Contains(sch.attrs, a.Name) {
			if _, isBlock := sch.blocks[a.Name]; isBlock {
				s.errAt(a.NameRange, "%q is a block, not an attribute: write %s { ... }", a.Name, a.Name)
			} else {
				s.errAt(a.NameRange, "unknown attribute %q %s%s", a.Name, where, suggest(a.Name, sch.attrs, keys(sch.blocks)))
			}
			continue
		}
		if !isLiteral(a.Expr) {
			s.errAt(a.Expr.Range(), "%s must be a literal value (expressions, variables and ${...} templates are not supported)", a.Name)
			out.markBad(a.Name)
			continue
		}
		v, diags := a.Expr.Value(nil)
		if diags.HasErrors() {
			s.addHCL(diags)
			out.markBad(a.Name)
			continue
		}
		if v.IsNull() {
			continue // `x = null` is the same as leaving x out
		}
		if !v.IsWhollyKnown() {
			s.errAt(a.Expr.Range(), "%s must be a constant value", a.Name)
			out.markBad(a.Name)
			continue
		}
		if n := longString(v); n > 0 {
			s.errAt(a.Expr.Range(), "%s: a string of %d bytes is too long (at most %d)", a.Name, n, MaxStringLen)
			out.markBad(a.Name)
			continue
		}
		ra := &rawAttr{Name: a.Name, NameRange: a.NameRange, Range: a.Expr.Range(), Value: v}
		if tup, ok := a.Expr.(*hclsyntax.TupleConsExpr); ok {
			for _, e := range tup.Exprs {
				ra.Elems = append(ra.Elems, e.Range())
			}
		}
		out.Attrs[a.Name] = ra
	}
	seenOnce := map[string]*rawBlock{}
	for _, blk := range body.Blocks {
		csch, ok := sch.blocks[blk.Type]
		if !ok {
			if slices.Contains(sch.attrs, blk.Type) {
				s.errAt(blk.TypeRange, "%q is an attribute, not a block: write %s = ...", blk.Type, blk.Type)
			} else {
				s.errAt(blk.TypeRange, "unknown block %q %s%s", blk.Type, where, suggest(blk.Type, keys(sch.blocks), sch.attrs))
			}
			continue
		}
		child := &rawBlock{Type: blk.Type, TypeRange: blk.TypeRange, Range: blk.Range()}
		// A block with the wrong number of labels is reported, its body is still checked
		// (so that the problems after it are reported in the same run), and it is left out.
		labelsOK := false
		switch {
		case csch.label == "" && len(blk.Labels) > 0:
			s.errAt(blk.LabelRanges[0], "%s takes no label: write %s { ... }", blk.Type, blk.Type)
		case csch.label != "" && len(blk.Labels) == 0:
			s.errAt(blk.TypeRange, "%s needs a label: write %s \"%s\" { ... }", blk.Type, blk.Type, csch.label)
		case csch.label != "" && len(blk.Labels) > 1:
			s.errAt(blk.LabelRanges[1], "%s takes one label: write %s \"%s\" { ... }", blk.Type, blk.Type, csch.label)
		default:
			labelsOK = true
		}
		if !labelsOK {
			s.decodeBody(blk.Body, csch, child)
			continue
		}
		child.Labels = blk.Labels
		child.LabelRanges = blk.LabelRanges
		if slices.Contains(sch.once, blk.Type) {
			if first, dup := seenOnce[blk.Type]; dup {
				s.errAt(blk.TypeRange, "duplicate %s block %s (first at %s)", blk.Type, where, posOf(first.TypeRange))
				continue
			}
			seenOnce[blk.Type] = child
		}
		s.decodeBody(blk.Body, csch, child)
		for _, req := range csch.required {
			if _, ok := child.Attrs[req]; !ok && !child.bad[req] {
				s.errAt(blk.TypeRange, "%s: missing required attribute %q", child.what(), req)
			}
		}
		out.Blocks = append(out.Blocks, child)
	}
}

// isLiteral accepts constants only: literals, lists, a leading minus, parentheses and
// strings without interpolation. A config has no variables, and refusing arithmetic and
// templates also keeps hostile input cheap (printing 1e9999999 in a template takes seconds).
func isLiteral(e hclsyntax.Expression) bool {
	switch e := e.(type) {
	case *hclsyntax.LiteralValueExpr:
		return true
	case *hclsyntax.TemplateExpr:
		for _, p := range e.Parts {
			if _, ok := p.(*hclsyntax.LiteralValueExpr); !ok {
				return false
			}
		}
		return true
	case *hclsyntax.TupleConsExpr:
		for _, x := range e.Exprs {
			if !isLiteral(x) {
				return false
			}
		}
		return true
	case *hclsyntax.UnaryOpExpr:
		return e.Op == hclsyntax.OpNegate && isLiteral(e.Val)
	case *hclsyntax.ParenthesesExpr:
		return isLiteral(e.Expression)
	}
	return false
}

func keys(m map[string]*blockSchema) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// suggest returns `; did you mean "x"?` for the closest known keyword, or "".
func suggest(name string, lists ...[]string) string {
	if msg := keepalivedNotSupported(name); msg != "" {
		return msg
	}
	if h, ok := hints[strings.ToLower(name)]; ok {
		return "; did you mean " + h + "?"
	}
	best, bestD := "", 1<<30
	for _, l := range lists {
		for _, cand := range l {
			if strings.EqualFold(cand, name) || strings.EqualFold(strings.ReplaceAll(cand, "_", "-"), name) {
				return fmt.Sprintf("; did you mean %q?", cand)
			}
			if len(name) > 64 || len(cand) > 64 {
				continue // keep hostile input cheap: the distance is quadratic
			}
			if d := levenshtein(strings.ToLower(name), strings.ToLower(cand)); d < bestD {
				best, bestD = cand, d
			}
		}
	}
	if best != "" && (bestD <= 2 || bestD*3 <= len(name)) {
		return fmt.Sprintf("; did you mean %q?", best)
	}
	return ""
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
