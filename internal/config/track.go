package config

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/lvsd/lvsd/internal/script"
)

// Tracking (vrrp_script, vrrp_track_file, track_* lists), sync groups, script_user and the
// split-brain GARP timers: keepalived's keywords, built after the global block.

var trackGlobalAttrs = []string{"script_user", "enable_script_security",
	"vrrp_garp_lower_prio_repeat", "vrrp_garp_lower_prio_delay", "vrrp_garp_master_refresh"}

var trackInstanceAttrs = []string{"track_script", "track_file",
	"garp_lower_prio_repeat", "garp_lower_prio_delay", "garp_master_refresh"}

var vrrpScriptSchema = &blockSchema{
	label:    "NAME",
	attrs:    []string{"script", "interval", "timeout", "weight", "rise", "fall", "user", "init_fail"},
	required: []string{"script"},
}

var trackFileSchema = &blockSchema{
	label:    "NAME",
	attrs:    []string{"file", "weight"},
	required: []string{"file"},
}

var syncGroupSchema = &blockSchema{
	label:    "NAME",
	attrs:    []string{"group", "notify_master", "notify_backup", "notify_fault", "notify", "track_script"},
	required: []string{"group"},
}

// A weight change of track_interface entries is applied in place; a change of the names
// restarts the instance (the link watcher follows them).
func init() { keywords["TrackInterfaceWeights"] = "track_interface weights" }

// scriptPolicy is what the global block says about running scripts.
type scriptPolicy struct {
	user   string // script_user, "" = root
	secure bool   // enable_script_security
	// global defaults of the instances' split-brain GARP timers (nil = the instance's
	// garp_master_* values)
	lowerPrioRepeat *int
	lowerPrioDelay  *time.Duration
	masterRefresh   time.Duration
}

func (s *sink) buildScriptGlobal(b *rawBlock, g *Global) {
	if v, a, ok := s.str(b, "script_user"); ok {
		if err := checkUserName(v); err != nil {
			s.errAt(a.Range, "script_user: %v", err)
		} else {
			g.ScriptUser = v
		}
	}
	g.EnableScriptSecurity = s.boolean(b, "enable_script_security", true)
	s.scripts.user, s.scripts.secure = g.ScriptUser, g.EnableScriptSecurity
	if v, a, ok := s.integer(b, "vrrp_garp_lower_prio_repeat", 0, 255, 0); ok && a != nil {
		n := int(v)
		s.scripts.lowerPrioRepeat = &n
	}
	if d, a, ok := s.duration(b, "vrrp_garp_lower_prio_delay", 0); ok && a != nil {
		s.scripts.lowerPrioDelay = &d
	}
	s.scripts.masterRefresh, _, _ = s.duration(b, "vrrp_garp_master_refresh", 0)
}

// buildGARPTimers reads the split-brain and refresh GARP settings of an instance (after
// its garp_master_* values, which are their defaults).
func (s *sink) buildGARPTimers(b *rawBlock, in *VRRPInstance) {
	repDef, delayDef := int64(in.GARPMasterRepeat), in.GARPMasterDelay
	if p := s.scripts.lowerPrioRepeat; p != nil {
		repDef = int64(*p)
	}
	if p := s.scripts.lowerPrioDelay; p != nil {
		delayDef = *p
	}
	rep, _, _ := s.integer(b, "garp_lower_prio_repeat", 0, 255, repDef)
	in.GARPLowerPrioRepeat = int(rep)
	in.GARPLowerPrioDelay, _, _ = s.duration(b, "garp_lower_prio_delay", delayDef)
	in.GARPMasterRefresh, _, _ = s.duration(b, "garp_master_refresh", s.scripts.masterRefresh)
}

// checkUserName accepts a user name or a numeric uid; whether it exists is checked at run
// time (validate checks the config, not the machine).
func checkUserName(u string) error {
	if strings.TrimSpace(u) == "" || strings.ContainsAny(u, " \t\n:/") {
		return fmt.Errorf("%q is not a user name", u)
	}
	return nil
}

// parseWeight reads "weight": a number, or keepalived's string form "-20 reverse".
func (s *sink) parseWeight(b *rawBlock, max int) (weight int, reverse bool, a *rawAttr, ok bool) {
	a = b.Attrs["weight"]
	if a == nil {
		return 0, false, nil, false
	}
	var text string
	switch a.Value.Type() {
	case cty.Number:
		bf := a.Value.AsBigFloat()
		if !bf.IsInt() || bf.Cmp(big.NewFloat(float64(-max))) < 0 || bf.Cmp(big.NewFloat(float64(max))) > 0 {
			s.errAt(a.Range, "weight must be a whole number from %d to %d, got %s", -max, max, fmtNum(bf))
			return 0, false, a, false
		}
		w, _ := bf.Int64()
		return int(w), false, a, true
	case cty.String:
		text = a.Value.AsString()
	default:
		s.errAt(a.Range, "weight must be a number or \"N reverse\", got %s", describe(a.Value))
		return 0, false, a, false
	}
	w, rev, err := parseWeightWords(strings.Fields(text), max)
	if err != nil {
		s.errAt(a.Range, "weight %q: %v", text, err)
		return 0, false, a, false
	}
	return w, rev, a, true
}

// parseWeightWords parses "N [reverse]".
func parseWeightWords(f []string, max int) (int, bool, error) {
	if len(f) == 0 || len(f) > 2 {
		return 0, false, fmt.Errorf("write a whole number from %d to %d, optionally followed by \"reverse\"", -max, max)
	}
	w, err := strconv.Atoi(f[0])
	if err != nil || w < -max || w > max {
		return 0, false, fmt.Errorf("weight must be a whole number from %d to %d, got %q", -max, max, f[0])
	}
	if len(f) == 2 {
		if f[1] != "reverse" {
			return 0, false, fmt.Errorf("unknown word %q after the weight; only \"reverse\" may follow it", f[1])
		}
		return w, true, nil
	}
	return w, false, nil
}

// trackEntry is one parsed "NAME [weight N [reverse]]" list element.
type trackEntry struct {
	name      string
	weight    int
	reverse   bool
	weightSet bool
	rng       hcl.Range
}

func parseTrackEntry(str string, max int) (trackEntry, error) {
	f := strings.Fields(str)
	if len(f) == 0 {
		return trackEntry{}, fmt.Errorf("empty entry")
	}
	e := trackEntry{name: f[0]}
	if len(f) == 1 {
		return e, nil
	}
	if f[1] != "weight" {
		return trackEntry{}, fmt.Errorf("%q: expected \"NAME\" or \"NAME weight N [reverse]\", got %q after the name", str, f[1])
	}
	w, rev, err := parseWeightWords(f[2:], max)
	if err != nil {
		return trackEntry{}, fmt.Errorf("%q: %v", str, err)
	}
	e.weight, e.reverse, e.weightSet = w, rev, true
	return e, nil
}

// trackList reads a track_* list, refusing duplicates.
func (s *sink) trackList(b *rawBlock, name string, max int) []trackEntry {
	items, _ := s.strList(b, name)
	seen := map[string]hcl.Range{}
	var out []trackEntry
	for _, it := range items {
		e, err := parseTrackEntry(it.val, max)
		if err != nil {
			s.errAt(it.rng, "%s: %v", name, err)
			continue
		}
		if first, dup := seen[e.name]; dup {
			s.errAt(it.rng, "duplicate %s %q (first at %s)", name, e.name, posOf(first))
			continue
		}
		seen[e.name] = it.rng
		e.rng = it.rng
		out = append(out, e)
	}
	return out
}

// buildScriptBlocks reads vrrp_script and vrrp_track_file blocks.
func (s *sink) buildScriptBlocks(top *rawBlock, cfg *Config) {
	names := map[string]hcl.Range{}
	for _, b := range top.children("vrrp_script") {
		vs := VRRPScript{Name: b.Labels[0], Interval: DefaultScriptInterval, Rise: DefaultScriptRise,
			Fall: DefaultScriptFall, Pos: posOf(rangeOf(b))}
		if !s.firstOfName(names, b) {
			continue
		}
		if strings.TrimSpace(vs.Name) == "" || strings.ContainsAny(vs.Name, " \t") {
			s.errAt(rangeOf(b), "vrrp_script name %q must be one word (track_script entries are \"NAME weight N\")", vs.Name)
		}
		if v, a, ok := s.str(b, "user"); ok {
			if err := checkUserName(v); err != nil {
				s.errAt(a.Range, "user: %v", err)
			} else {
				vs.User = v
			}
		}
		if v, a, ok := s.str(b, "script"); ok {
			argv, err := script.Split(v)
			if err != nil {
				s.errAt(a.Range, "script: %v", err)
			} else {
				vs.Script, vs.Argv = v, argv
				user := vs.User
				if user == "" {
					user = s.scripts.user
				}
				s.checkScriptSecurity(a, argv[0], user)
			}
		}
		vs.Interval, _, _ = s.duration(b, "interval", DefaultScriptInterval)
		var toAttr *rawAttr
		vs.Timeout, toAttr, _ = s.duration(b, "timeout", vs.Interval)
		if toAttr == nil {
			vs.Timeout = vs.Interval
		}
		vs.Weight, vs.Reverse, _, _ = s.parseWeight(b, MaxTrackWeight)
		rise, _, _ := s.integer(b, "rise", 1, 1000000, DefaultScriptRise)
		fall, _, _ := s.integer(b, "fall", 1, 1000000, DefaultScriptFall)
		vs.Rise, vs.Fall = int(rise), int(fall)
		vs.InitFail = s.boolean(b, "init_fail", false)
		cfg.VRRPScripts = append(cfg.VRRPScripts, vs)
	}
	names = map[string]hcl.Range{}
	for _, b := range top.children("vrrp_track_file") {
		tf := VRRPTrackFile{Name: b.Labels[0], Pos: posOf(rangeOf(b))}
		if !s.firstOfName(names, b) {
			continue
		}
		if v, a, ok := s.str(b, "file"); ok {
			if !strings.HasPrefix(v, "/") {
				s.errAt(a.Range, "file must be an absolute path, got %q", v)
			} else {
				tf.File = v
			}
		}
		tf.Weight, tf.Reverse, _, _ = s.parseWeight(b, MaxTrackFileWeight)
		cfg.TrackFiles = append(cfg.TrackFiles, tf)
	}
}

// buildTracking resolves every instance's track_* lists against the blocks they name, then
// reads the sync groups.
func (s *sink) buildTracking(top *rawBlock, cfg *Config) {
	done := map[string]bool{}
	for _, b := range top.children("vrrp_instance") {
		in := cfg.Instance(b.Labels[0])
		if in == nil || done[in.Name] {
			continue // a duplicate, already reported
		}
		done[in.Name] = true
		for _, e := range s.trackList(b, "track_interface", MaxTrackWeight) {
			if err := checkIfName(e.name); err != nil {
				s.errAt(e.rng, "track_interface: %v", err)
				continue
			}
			in.TrackInterfaces = append(in.TrackInterfaces, e.name)
			in.TrackInterfaceWeights = append(in.TrackInterfaceWeights,
				Track{Name: e.name, Weight: e.weight, Reverse: e.reverse, Pos: posOf(e.rng)})
		}
		for _, e := range s.trackList(b, "track_script", MaxTrackWeight) {
			sc := cfg.Script(e.name)
			if sc == nil {
				s.errAt(e.rng, "track_script %q: no vrrp_script block of that name%s", e.name, suggest(e.name, scriptNames(cfg)))
				continue
			}
			t := Track{Name: e.name, Weight: sc.Weight, Reverse: sc.Reverse, Pos: posOf(e.rng)}
			if e.weightSet {
				t.Weight, t.Reverse = e.weight, e.reverse
			}
			in.TrackScripts = append(in.TrackScripts, t)
		}
		for _, e := range s.trackList(b, "track_file", MaxTrackFileWeight) {
			tf := cfg.TrackFile(e.name)
			if tf == nil {
				s.errAt(e.rng, "track_file %q: no vrrp_track_file block of that name", e.name)
				continue
			}
			t := Track{Name: e.name, Weight: tf.Weight, Reverse: tf.Reverse, Pos: posOf(e.rng)}
			if e.weightSet {
				t.Weight, t.Reverse = e.weight, e.reverse
			}
			in.TrackFiles = append(in.TrackFiles, t)
		}
		if a := b.Attrs["priority"]; a != nil && in.Priority == 255 && hasAnyWeight(in) {
			s.warnAt(a.Range, "vrrp_instance %q has priority 255 (address owner): track weights never change its priority; only weight-0 failures (FAULT) apply", in.Name)
		}
	}
	s.buildSyncGroups(top, cfg)
}

// firstOfName reports a labelled block whose label an earlier block of its type already
// used, and records the first one.
func (s *sink) firstOfName(names map[string]hcl.Range, b *rawBlock) bool {
	if first, dup := names[b.Labels[0]]; dup {
		s.errAt(rangeOf(b), "duplicate %s %q (first defined at %s)", b.Type, b.Labels[0], posOf(first))
		return false
	}
	names[b.Labels[0]] = rangeOf(b)
	return true
}

func hasWeight(ts []Track) bool {
	for _, t := range ts {
		if t.Weight != 0 {
			return true
		}
	}
	return false
}

func hasAnyWeight(in *VRRPInstance) bool {
	return hasWeight(in.TrackInterfaceWeights) || hasWeight(in.TrackScripts) || hasWeight(in.TrackFiles)
}

func scriptNames(cfg *Config) []string {
	out := make([]string, 0, len(cfg.VRRPScripts))
	for _, sc := range cfg.VRRPScripts {
		out = append(out, sc.Name)
	}
	return out
}

func (s *sink) buildSyncGroups(top *rawBlock, cfg *Config) {
	names := map[string]hcl.Range{}
	member := map[string]seenAt{} // instance -> group
	for _, b := range top.children("vrrp_sync_group") {
		g := SyncGroup{Name: b.Labels[0], Pos: posOf(rangeOf(b))}
		if !s.firstOfName(names, b) {
			continue
		}
		items, _ := s.strList(b, "group")
		for _, it := range items {
			name := strings.TrimSpace(it.val)
			if cfg.Instance(name) == nil {
				s.errAt(it.rng, "vrrp_sync_group %q: no vrrp_instance %q%s", g.Name, name, suggest(name, instanceNames(cfg)))
				continue
			}
			if first, dup := member[name]; dup {
				s.errAt(it.rng, "vrrp_instance %q is already in %s (at %s); an instance belongs to one sync group", name, first.what, posOf(first.rng))
				continue
			}
			member[name] = seenAt{fmt.Sprintf("vrrp_sync_group %q", g.Name), it.rng}
			g.Instances = append(g.Instances, name)
		}
		if len(items) == 1 && len(g.Instances) == 1 {
			s.warnAt(items[0].rng, "vrrp_sync_group %q has one instance: a sync group synchronises two or more", g.Name)
		}
		g.NotifyMaster, _ = s.command(b, "notify_master")
		g.NotifyBackup, _ = s.command(b, "notify_backup")
		g.NotifyFault, _ = s.command(b, "notify_fault")
		g.Notify, _ = s.command(b, "notify")
		for _, e := range s.trackList(b, "track_script", MaxTrackWeight) {
			if cfg.Script(e.name) == nil {
				s.errAt(e.rng, "track_script %q: no vrrp_script block of that name%s", e.name, suggest(e.name, scriptNames(cfg)))
				continue
			}
			if e.weightSet && e.weight != 0 || cfg.Script(e.name).Weight != 0 && !e.weightSet {
				s.warnAt(e.rng, "track_script %q in a sync group: the weight is ignored, a failure puts the whole group in FAULT (as keepalived)", e.name)
			}
			g.TrackScripts = append(g.TrackScripts, Track{Name: e.name, Pos: posOf(e.rng)})
		}
		cfg.SyncGroups = append(cfg.SyncGroups, g)
		for _, name := range g.Instances {
			s.zeroGroupWeights(cfg.Instance(name), g.Name)
		}
	}
}

// zeroGroupWeights makes every tracked item of a sync group member weight 0, as keepalived
// does (without its sync_group_tracking_weight): members with their own priority changes
// would pull the group apart, each preempting the other in turn.
func (s *sink) zeroGroupWeights(in *VRRPInstance, group string) {
	for _, ts := range [][]Track{in.TrackInterfaceWeights, in.TrackScripts, in.TrackFiles} {
		for i := range ts {
			if ts[i].Weight == 0 {
				continue
			}
			s.warns = append(s.warns, Diagnostic{File: ts[i].Pos.File, Line: ts[i].Pos.Line, Col: ts[i].Pos.Col, Warning: true,
				Message: fmt.Sprintf("vrrp_instance %q is in vrrp_sync_group %q: the weight of %q is ignored, its failure puts the group in FAULT (as keepalived)", in.Name, group, ts[i].Name)})
			ts[i].Weight, ts[i].Reverse = 0, false
		}
	}
}
