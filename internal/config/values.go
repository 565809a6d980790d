package config

import (
	"fmt"
	"math"
	"math/big"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// sink collects every problem found, so that all of them are reported at once.
type sink struct {
	errs, warns Diagnostics
	scripts     scriptPolicy // global script_user / enable_script_security, for command()
	memo        *vsMemo      // nil: build every virtual server
}

func posOf(r hcl.Range) Pos {
	return Pos{File: r.Filename, Line: r.Start.Line, Col: r.Start.Column}
}

func (s *sink) errAt(r hcl.Range, format string, args ...any) {
	s.errs = append(s.errs, Diagnostic{File: r.Filename, Line: r.Start.Line, Col: r.Start.Column, Message: fmt.Sprintf(format, args...)})
}

func (s *sink) warnAt(r hcl.Range, format string, args ...any) {
	s.warns = append(s.warns, Diagnostic{File: r.Filename, Line: r.Start.Line, Col: r.Start.Column, Message: fmt.Sprintf(format, args...), Warning: true})
}

// addHCL converts the HCL library's own diagnostics (syntax errors, expressions that are
// not constants) into ours, one line each.
func (s *sink) addHCL(diags hcl.Diagnostics) {
	for _, d := range diags {
		msg := d.Summary
		if d.Detail != "" {
			msg += ": " + d.Detail
		}
		msg = strings.Join(strings.Fields(msg), " ")
		out := Diagnostic{Message: msg, Warning: d.Severity != hcl.DiagError}
		if d.Subject != nil {
			out.File, out.Line, out.Col = d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column
		}
		if out.Warning {
			s.warns = append(s.warns, out)
		} else {
			s.errs = append(s.errs, out)
		}
	}
}

// describe renders a value for "got ..." in messages.
func describe(v cty.Value) string {
	switch {
	case v.IsNull():
		return "null"
	case !v.IsKnown():
		return "an unknown value"
	case v.Type() == cty.String:
		return fmt.Sprintf("%q", v.AsString())
	case v.Type() == cty.Number:
		return fmtNum(v.AsBigFloat())
	case v.Type() == cty.Bool:
		return fmt.Sprint(v.True())
	case v.Type().IsTupleType() || v.Type().IsListType() || v.Type().IsSetType():
		return "a list"
	case v.Type().IsObjectType() || v.Type().IsMapType():
		return "an object"
	}
	return v.Type().FriendlyName()
}

// fmtNum renders a number for messages and string attributes. big.Float's own Text is
// avoided for huge exponents (1e9999999 takes seconds to print in decimal).
func fmtNum(bf *big.Float) string {
	if exp := bf.MantExp(nil); bf.IsInf() || exp > 256 || exp < -256 {
		if bf.Sign() < 0 {
			return "a huge negative number"
		}
		return "a huge number"
	}
	if bf.IsInt() {
		return bf.Text('f', 0)
	}
	f, _ := bf.Float64()
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func (s *sink) str(b *rawBlock, name string) (string, *rawAttr, bool) {
	a := b.Attrs[name]
	if a == nil {
		return "", nil, false
	}
	if a.Value.Type() == cty.Number { // e.g. auth_pass = 1111, as keepalived users write it
		return fmtNum(a.Value.AsBigFloat()), a, true
	}
	v, err := convert.Convert(a.Value, cty.String)
	if err != nil || v.IsNull() || a.Value.Type() == cty.Bool {
		s.errAt(a.Range, "%s must be a string, got %s", name, describe(a.Value))
		return "", a, false
	}
	return v.AsString(), a, true
}

func (s *sink) boolean(b *rawBlock, name string, def bool) bool {
	a := b.Attrs[name]
	if a == nil {
		return def
	}
	v, err := convert.Convert(a.Value, cty.Bool)
	if err != nil || v.IsNull() {
		s.errAt(a.Range, "%s must be true or false, got %s", name, describe(a.Value))
		return def
	}
	return v.True()
}

func (s *sink) number(a *rawAttr) (*big.Float, bool) {
	v, err := convert.Convert(a.Value, cty.Number)
	if err != nil || v.IsNull() {
		s.errAt(a.Range, "%s must be a number, got %s", a.Name, describe(a.Value))
		return nil, false
	}
	return v.AsBigFloat(), true
}

// integer reads a whole number in [lo, hi]; def when absent.
func (s *sink) integer(b *rawBlock, name string, lo, hi, def int64) (int64, *rawAttr, bool) {
	a := b.Attrs[name]
	if a == nil {
		return def, nil, false
	}
	bf, ok := s.number(a)
	if !ok {
		return def, a, false
	}
	if !bf.IsInt() && !bf.IsInf() { // an infinity (1e999999999) is reported as out of range
		s.errAt(a.Range, "%s must be a whole number, got %s", name, fmtNum(bf))
		return def, a, false
	}
	if bf.Cmp(big.NewFloat(float64(lo))) < 0 || bf.Cmp(big.NewFloat(float64(hi))) > 0 {
		s.errAt(a.Range, "%s must be from %d to %d, got %s", name, lo, hi, fmtNum(bf))
		return def, a, false
	}
	i, _ := bf.Int64()
	return i, a, true
}

// durSpec is the allowed range of a time attribute and the rule shown when it is broken.
type durSpec struct {
	whole    bool // whole seconds only
	min, max time.Duration
	rule     string // e.g. "advert_int must be whole seconds from 1 to 255 (VRRPv2)"
}

var durSpecs = map[string]durSpec{
	"advert_int":          {true, time.Second, 255 * time.Second, "advert_int must be whole seconds from 1 to 255 (VRRPv2)"},
	advertIntV3:           {false, 10 * time.Millisecond, 40950 * time.Millisecond, "advert_int must be from 0.01 to 40.95 seconds (VRRPv3)"},
	"preempt_delay":       {false, 0, 1000 * time.Second, "preempt_delay must be from 0 to 1000 seconds"},
	"garp_master_delay":   {true, 0, 3600 * time.Second, "garp_master_delay must be whole seconds from 0 to 3600"},
	"reconcile_interval":  {false, 100 * time.Millisecond, time.Hour, "reconcile_interval must be from 0.1 to 3600 seconds"},
	"persistence_timeout": {true, 0, 31 * 24 * time.Hour, "persistence_timeout must be whole seconds from 0 to 2678400 (31 days)"},
	"delay_loop":          {false, time.Millisecond, 24 * time.Hour, "delay_loop must be from 0.001 to 86400 seconds"},
	"connect_timeout":     {false, time.Millisecond, time.Hour, "connect_timeout must be from 0.001 to 3600 seconds"},
	"delay_before_retry":  {false, 0, 24 * time.Hour, "delay_before_retry must be from 0 to 86400 seconds"},
	"warmup":              {false, 0, 24 * time.Hour, "warmup must be from 0 to 86400 seconds"},
	"misc_timeout":        {true, time.Second, 24 * time.Hour, "misc_timeout must be whole seconds from 1 to 86400"},
	// vrrp_script, and the GARP timers of tracking and split brain (keepalived's ranges)
	"interval":                   {false, 10 * time.Millisecond, 24 * time.Hour, "interval must be from 0.01 to 86400 seconds"},
	"timeout":                    {false, 10 * time.Millisecond, 24 * time.Hour, "timeout must be from 0.01 to 86400 seconds"},
	"garp_lower_prio_delay":      {true, 0, 3600 * time.Second, "garp_lower_prio_delay must be whole seconds from 0 to 3600"},
	"garp_master_refresh":        {true, 0, 3600 * time.Second, "garp_master_refresh must be whole seconds from 0 to 3600 (0 = off)"},
	"vrrp_garp_lower_prio_delay": {true, 0, 3600 * time.Second, "vrrp_garp_lower_prio_delay must be whole seconds from 0 to 3600"},
	"vrrp_garp_master_refresh":   {true, 0, 3600 * time.Second, "vrrp_garp_master_refresh must be whole seconds from 0 to 3600 (0 = off)"},
}

// advertIntV3 reads advert_int with VRRPv3's range.
const advertIntV3 = "advert_int (VRRPv3)"

// duration reads a time: a number is seconds (as in keepalived), a string a Go duration.
func (s *sink) duration(b *rawBlock, name string, def time.Duration) (time.Duration, *rawAttr, bool) {
	spec := durSpecs[name]
	if name == advertIntV3 {
		name = "advert_int"
	}
	a := b.Attrs[name]
	if a == nil {
		return def, nil, false
	}
	var d time.Duration
	switch a.Value.Type() {
	case cty.Number:
		bf := a.Value.AsBigFloat()
		if spec.whole && !bf.IsInt() {
			s.errAt(a.Range, "%s, got %s", spec.rule, fmtNum(bf))
			return def, a, false
		}
		lo, hi := big.NewFloat(spec.min.Seconds()), big.NewFloat(spec.max.Seconds())
		if bf.Cmp(lo) < 0 || bf.Cmp(hi) > 0 {
			s.errAt(a.Range, "%s, got %s", spec.rule, fmtNum(bf))
			return def, a, false
		}
		f, _ := bf.Float64()
		d = time.Duration(math.Round(f * 1e9))
	case cty.String:
		str := a.Value.AsString()
		var err error
		d, err = time.ParseDuration(strings.TrimSpace(str))
		if err != nil {
			s.errAt(a.Range, "%s must be a number of seconds or a duration such as \"1500ms\", got %q", name, str)
			return def, a, false
		}
		if (spec.whole && d%time.Second != 0) || d < spec.min || d > spec.max {
			s.errAt(a.Range, "%s, got %q", spec.rule, str)
			return def, a, false
		}
	default:
		s.errAt(a.Range, "%s must be a number of seconds or a duration such as \"1500ms\", got %s", name, describe(a.Value))
		return def, a, false
	}
	if d < spec.min { // a tiny positive fraction rounded to 0ns
		s.errAt(a.Range, "%s, got %s", spec.rule, describe(a.Value))
		return def, a, false
	}
	return d, a, true
}

// item is one element of a list attribute, with its own position when it has one.
type item struct {
	val string
	rng hcl.Range
}

// strList reads a list of strings (a single string is a list of one).
func (s *sink) strList(b *rawBlock, name string) ([]item, *rawAttr) {
	a := b.Attrs[name]
	if a == nil {
		return nil, nil
	}
	t := a.Value.Type()
	if t == cty.String || t == cty.Number {
		str, _, ok := s.str(b, name)
		if !ok {
			return nil, a
		}
		return []item{{str, a.Range}}, a
	}
	if !t.IsTupleType() && !t.IsListType() && !t.IsSetType() {
		s.errAt(a.Range, "%s must be a list of strings, got %s", name, describe(a.Value))
		return nil, a
	}
	elemRanges := a.Elems
	var out []item
	i := 0
	for it := a.Value.ElementIterator(); it.Next(); i++ {
		_, ev := it.Element()
		rng := a.Range
		if i < len(elemRanges) && len(elemRanges) == a.Value.LengthInt() {
			rng = elemRanges[i]
		}
		if ev.Type() == cty.Number {
			out = append(out, item{fmtNum(ev.AsBigFloat()), rng})
			continue
		}
		sv, err := convert.Convert(ev, cty.String)
		if err != nil || sv.IsNull() || !sv.IsKnown() {
			s.errAt(rng, "%s must be a list of strings, got %s in it", name, describe(ev))
			continue
		}
		out = append(out, item{sv.AsString(), rng})
	}
	return out, a
}

// addr parses an IP address attribute (no zone).
func (s *sink) addr(b *rawBlock, name string) (netip.Addr, *rawAttr) {
	str, a, ok := s.str(b, name)
	if !ok {
		return netip.Addr{}, a
	}
	ip, err := parseIP(str)
	if err != nil {
		s.errAt(a.Range, "%s: %v", name, err)
		return netip.Addr{}, a
	}
	return ip, a
}

func parseIP(str string) (netip.Addr, error) {
	ip, err := netip.ParseAddr(strings.TrimSpace(str))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%q is not an IP address", str)
	}
	if ip.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("%q: zones (%%%s) are not supported", str, ip.Zone())
	}
	return ip.Unmap(), nil
}

// enum reads a string attribute that must be one of choices (compared case-insensitively);
// it returns the index of the choice, or -1.
func (s *sink) enum(b *rawBlock, name string, choices []string) (int, *rawAttr) {
	str, a, ok := s.str(b, name)
	if !ok {
		return -1, a
	}
	for i, c := range choices {
		if strings.EqualFold(strings.TrimSpace(str), c) {
			return i, a
		}
	}
	s.errAt(a.Range, "unknown %s %q; use %s", name, str, orList(choices))
	return -1, a
}

// orList renders `"a", "b" or "c"`.
func orList(choices []string) string {
	q := make([]string, len(choices))
	for i, c := range choices {
		q[i] = fmt.Sprintf("%q", c)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// checkIfName applies the kernel's dev_valid_name rules.
func checkIfName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("interface name must not be empty")
	case len(name) > 15:
		return fmt.Errorf("interface name %q is longer than 15 bytes", name)
	case name == "." || name == "..":
		return fmt.Errorf("%q is not a valid interface name", name)
	}
	for _, r := range name {
		if r == '/' || r == ':' || r <= ' ' || r == 0x7f {
			return fmt.Errorf("interface name %q must not contain %q", name, r)
		}
	}
	return nil
}
