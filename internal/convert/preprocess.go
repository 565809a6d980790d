package convert

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// The preprocessor turns keepalived.conf files into logical lines, doing what keepalived's
// reader does before any keyword is looked at: comments, include, conditional lines
// (@ID / @^ID), parameter definitions and substitution, ~SEQ and ~LST lines. Every line
// keeps the file and line it came from so that each message can point there.

// Limits keep hostile or broken input cheap: a config that hits one is refused with a
// position, never allowed to eat the machine.
const (
	MaxIncludeDepth = 8        // nested include levels
	MaxFiles        = 256      // files read in total
	MaxFileSize     = 4 << 20  // bytes per file
	MaxLineLen      = 64 << 10 // bytes per line, also after substitution
	MaxLines        = 200_000  // logical lines produced in total
	MaxOutputBytes  = 32 << 20 // bytes of logical lines in total
	maxSubstitution = 1000     // substitutions in one line (recursion included)
	maxSeqValues    = 65536    // values of one ~SEQ/~LST
	maxDefLines     = 10_000   // lines of one multi-line definition
	maxGlobMatches  = MaxFiles // files one include pattern may match
	maxDefinitions  = 10_000   // parameters defined
	maxExpandDepth  = 16       // multi-line definitions expanding into more of them
	maxSeqNesting   = 8        // ~SEQ/~LST on one line
	maxSeqRuns      = 1 << 18
	maxSubstWork    = 256 << 20 // bytes copied by substitution in total   // lines processed for ~SEQ/~LST in total
	commentCarryMax = 200       // comment lines kept above one statement
	includeKeywords = "include" // and includer, includem, includew, includeb, includea
)

// Pos is a place in a keepalived file.
type Pos struct {
	File string
	Line int
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d", p.File, p.Line) }

// Line is one logical configuration line after preprocessing.
type Line struct {
	Pos      Pos
	Text     string   // without comments, trimmed
	Comments []string // full-line comments written just above it, without the # or !
}

// Diag is a warning or a refusal at a position.
type Diag struct {
	Pos     Pos
	Message string
	Refused bool // the conversion cannot be done (exit 1, no output)
}

func (d Diag) String() string {
	if d.Pos.Line == 0 {
		return d.Pos.File + ": " + d.Message
	}
	return d.Pos.String() + ": " + d.Message
}

// preprocessor holds the state of one conversion's reading.
type preprocessor struct {
	configID  string
	env       func(string) string
	defs      map[string][]string // parameter -> its lines (one for a single-line definition)
	out       []Line
	outBytes  int
	files     int
	diags     []Diag
	stopped   bool     // a limit was hit: stop producing lines
	comments  []string // pending full-line comments
	noInclude bool     // fuzzing: never touch the file system
	seqRuns   int      // lines processed for ~SEQ/~LST so far
	substWork int      // bytes copied by substitution so far
}

func (p *preprocessor) warn(pos Pos, format string, args ...any) {
	p.diags = append(p.diags, Diag{Pos: pos, Message: fmt.Sprintf(format, args...)})
}

func (p *preprocessor) refuse(pos Pos, format string, args ...any) {
	p.diags = append(p.diags, Diag{Pos: pos, Message: fmt.Sprintf(format, args...), Refused: true})
}

// limit refuses at pos and stops all further reading.
func (p *preprocessor) limit(pos Pos, format string, args ...any) {
	if !p.stopped {
		p.refuse(pos, format, args...)
	}
	p.stopped = true
}

// physLine is a line of a file after comment removal, with continuation lines joined.
type physLine struct {
	pos     Pos
	text    string
	comment string // the text of a full-line comment ("" otherwise)
	isCmt   bool
	cont    bool // ended with a backslash (continued on the next line)
}

// readFile reads path (depth = include nesting) and processes its lines.
func (p *preprocessor) readFile(path string, from Pos, depth int) {
	if p.stopped {
		return
	}
	if depth > MaxIncludeDepth {
		p.limit(from, "include: nested more than %d levels deep", MaxIncludeDepth)
		return
	}
	p.files++
	if p.files > MaxFiles {
		p.limit(from, "include: more than %d files", MaxFiles)
		return
	}
	f, err := os.Open(path)
	if err != nil {
		if from.File == "" {
			p.refuse(Pos{File: path}, "cannot read: %v", errText(err))
		} else {
			p.warn(from, "include %s: cannot read: %v", path, errText(err))
		}
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		p.refuse(Pos{File: path}, "not a regular file")
		return
	}
	buf := make([]byte, MaxFileSize+1)
	n, _ := readFull(f, buf)
	if n > MaxFileSize {
		p.limit(Pos{File: path}, "file larger than %d bytes", MaxFileSize)
		return
	}
	p.processSource(path, string(buf[:n]), depth)
}

func readFull(f *os.File, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := f.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func errText(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

// processSource runs one file's content through the preprocessor.
func (p *preprocessor) processSource(name, src string, depth int) {
	lines := splitPhysical(name, src)
	for i := 0; i < len(lines) && !p.stopped; i++ {
		l := lines[i]
		if len(l.text) > MaxLineLen {
			p.limit(l.pos, "line longer than %d bytes", MaxLineLen)
			return
		}
		if l.isCmt {
			if len(p.comments) < commentCarryMax {
				p.comments = append(p.comments, l.comment)
			}
			continue
		}
		if l.text == "" {
			continue
		}
		// include is recognised before conditionals and substitution, as in keepalived.
		if kw, arg, ok := includeLine(l.text); ok {
			p.comments = nil
			p.include(kw, arg, l.pos, depth)
			continue
		}
		// A definition whose value ends with a backslash goes on over the next lines.
		text := l.text
		if isDefinitionStart(stripCondition(text)) && l.cont {
			var parts []string
			parts = append(parts, text)
			for l.cont && i+1 < len(lines) {
				i++
				l = lines[i]
				if len(parts) > maxDefLines {
					p.limit(l.pos, "multi-line definition longer than %d lines", maxDefLines)
					return
				}
				if l.isCmt {
					continue
				}
				parts = append(parts, l.text)
			}
			p.defineMulti(parts, lines[i].pos)
			continue
		}
		p.line(l.pos, text, 0)
	}
}

// splitPhysical splits src into lines, removes comments outside double quotes and
// trims blanks, keeping full-line comments apart so that they can be carried over.
func splitPhysical(name, src string) []physLine {
	raw := strings.Split(src, "\n")
	out := make([]physLine, 0, len(raw))
	for i, r := range raw {
		r = strings.TrimSuffix(r, "\r")
		pos := Pos{File: name, Line: i + 1}
		trimmed := strings.TrimLeft(r, " \t")
		if trimmed != "" && (trimmed[0] == '#' || trimmed[0] == '!') {
			out = append(out, physLine{pos: pos, isCmt: true, comment: strings.TrimSpace(trimmed[1:])})
			continue
		}
		text, cont := decomment(trimmed)
		out = append(out, physLine{pos: pos, text: text, cont: cont})
	}
	return out
}

// decomment cuts a line at the first # or ! outside double quotes (\# and \! stand for the
// characters themselves outside quotes), trims blanks and reports a trailing backslash.
func decomment(s string) (string, bool) {
	var b strings.Builder
	quote := false
	cont := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			quote = !quote
			b.WriteByte(c)
		case c == '\\':
			if i+1 == len(s) {
				cont = true
				i = len(s)
				continue
			}
			if !quote && (s[i+1] == '#' || s[i+1] == '!') {
				b.WriteByte(s[i+1])
			} else {
				b.WriteByte(c)
				b.WriteByte(s[i+1])
			}
			i++
		case !quote && (c == '#' || c == '!'):
			i = len(s)
		default:
			b.WriteByte(c)
		}
	}
	return strings.TrimRight(b.String(), " \t"), cont
}

// includeLine recognises `include PATTERN` and its variants.
func includeLine(text string) (kw, arg string, ok bool) {
	kw, rest, _ := strings.Cut(text, " ")
	if t, r, found := strings.Cut(text, "\t"); found && len(t) < len(kw) {
		kw, rest = t, r
	}
	switch kw {
	case "include", "includer", "includem", "includew", "includeb", "includea":
		return kw, strings.Trim(strings.TrimSpace(rest), `"`), true
	}
	return "", "", false
}

// include reads the files PATTERN matches, relative to the including file's directory.
func (p *preprocessor) include(kw, pattern string, pos Pos, depth int) {
	if p.noInclude {
		p.warn(pos, "%s: not read", kw)
		return
	}
	if pattern == "" {
		p.warn(pos, "%s: no file named", kw)
		return
	}
	if !filepath.IsAbs(pattern) {
		pattern = filepath.Join(filepath.Dir(pos.File), pattern)
	}
	var matches []string
	for _, pat := range expandBraces(pattern, 0) {
		m, err := filepath.Glob(pat)
		if err != nil {
			p.warn(pos, "%s %s: bad pattern: %v", kw, pattern, err)
			return
		}
		matches = append(matches, m...)
	}
	if len(matches) == 0 {
		if kw == "includem" || kw == "includea" || kw == "includew" {
			p.refuse(pos, "%s %s: no file matches (keepalived refuses this include variant too)", kw, pattern)
			return
		}
		p.warn(pos, "%s %s: no file matches", kw, pattern)
		return
	}
	if len(matches) > maxGlobMatches {
		p.limit(pos, "%s %s: matches more than %d files", kw, pattern, maxGlobMatches)
		return
	}
	sort.Strings(matches)
	for _, m := range matches {
		p.readFile(m, pos, depth+1)
	}
}

// expandBraces expands csh-style {a,b} alternatives (glob() with GLOB_BRACE does this).
func expandBraces(s string, depth int) []string {
	open := strings.IndexByte(s, '{')
	if open < 0 || depth > 4 {
		return []string{s}
	}
	level, close := 0, -1
	var commas []int
	for i := open; i < len(s) && close < 0; i++ {
		switch s[i] {
		case '{':
			level++
		case '}':
			level--
			if level == 0 {
				close = i
			}
		case ',':
			if level == 1 {
				commas = append(commas, i)
			}
		}
	}
	if close < 0 {
		return []string{s}
	}
	var alts []string
	start := open + 1
	for _, c := range append(commas, close) {
		alts = append(alts, s[start:c])
		start = c + 1
	}
	var out []string
	for _, a := range alts {
		for _, e := range expandBraces(s[:open]+a+s[close+1:], depth+1) {
			out = append(out, e)
			if len(out) > maxGlobMatches {
				return out
			}
		}
	}
	return out
}

// stripCondition removes an @ID / @^ID prefix (for recognising a definition only).
func stripCondition(text string) string {
	if strings.HasPrefix(text, "@") {
		if _, rest, ok := strings.Cut(text, " "); ok {
			return strings.TrimLeft(rest, " \t")
		}
		return ""
	}
	return text
}

// condition applies an @ID / @^ID prefix: it returns the rest of the line and whether the
// line is selected by the config id.
func (p *preprocessor) condition(text string) (string, bool) {
	if !strings.HasPrefix(text, "@") {
		return text, true
	}
	word, rest, _ := strings.Cut(text[1:], " ")
	if w, r, ok := strings.Cut(text[1:], "\t"); ok && len(w) < len(word) {
		word, rest = w, r
	}
	rest = strings.TrimLeft(rest, " \t")
	if neg, ok := strings.CutPrefix(word, "^"); ok {
		return rest, neg != p.configID
	}
	return rest, word == p.configID
}

func isNameStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isNameChar(c byte) bool { return isNameStart(c) || c >= '0' && c <= '9' }

// isDefinitionStart reports whether text is `$NAME=...`.
func isDefinitionStart(text string) bool {
	_, _, ok := definition(text)
	return ok
}

// definition splits `$NAME=VALUE`.
func definition(text string) (name, value string, ok bool) {
	if len(text) < 3 || text[0] != '$' || !isNameStart(text[1]) {
		return "", "", false
	}
	i := 2
	for i < len(text) && isNameChar(text[i]) {
		i++
	}
	if i >= len(text) || text[i] != '=' {
		return "", "", false
	}
	return text[1:i], strings.TrimSpace(text[i+1:]), true
}

// defineMulti handles a definition whose value spans several lines.
func (p *preprocessor) defineMulti(parts []string, pos Pos) {
	first, ok := p.condition(parts[0])
	if !ok {
		return
	}
	name, value, _ := definition(first)
	lines := parts[1:]
	if value != "" {
		lines = append([]string{value}, lines...)
	}
	var kept []string
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			kept = append(kept, l)
		}
	}
	p.define(name, kept, pos)
}

func (p *preprocessor) define(name string, lines []string, pos Pos) {
	if _, exists := p.defs[name]; !exists && len(p.defs) >= maxDefinitions {
		p.limit(pos, "more than %d parameters defined", maxDefinitions)
		return
	}
	if strings.HasPrefix(name, "_") {
		p.warn(pos, "$%s: names starting with _ are reserved by keepalived", name)
	}
	p.defs[name] = lines
}

// line processes one logical line: condition, definition, ~SEQ/~LST, substitution.
// depth counts expansions of multi-line definitions.
func (p *preprocessor) line(pos Pos, text string, depth int) {
	if p.stopped {
		return
	}
	text, ok := p.condition(text)
	if !ok || text == "" {
		p.comments = nil
		return
	}
	if name, value, ok := definition(text); ok {
		p.define(name, []string{value}, pos)
		return
	}
	if strings.HasPrefix(text, "~SEQ") || strings.HasPrefix(text, "~LST") {
		p.sequence(pos, text, depth)
		return
	}
	if depth > maxExpandDepth {
		p.limit(pos, "parameter expansion nested more than %d levels", maxExpandDepth)
		return
	}
	expanded, err := p.substitute(pos, text)
	if err != "" {
		p.limit(pos, "%s", err)
		return
	}
	if len(expanded) == 1 && expanded[0] == text {
		p.emit(pos, text)
		return
	}
	for _, e := range expanded {
		if e = strings.TrimSpace(e); e != "" {
			p.line(pos, e, depth+1)
		}
	}
}

func (p *preprocessor) emit(pos Pos, text string) {
	if len(p.out) >= MaxLines {
		p.limit(pos, "configuration expands to more than %d lines", MaxLines)
		return
	}
	p.outBytes += len(text)
	if p.outBytes > MaxOutputBytes {
		p.limit(pos, "configuration expands to more than %d bytes", MaxOutputBytes)
		return
	}
	p.out = append(p.out, Line{Pos: pos, Text: text, Comments: p.comments})
	p.comments = nil
}

// substitute replaces $NAME (followed by a blank or the end) and ${NAME} with their
// values, recursively. A multi-line value ends the substitution there: the line becomes
// several, each then processed in turn (definitions among them take effect in order, as in
// keepalived). Undefined parameters stay as written, as in keepalived.
func (p *preprocessor) substitute(pos Pos, text string) ([]string, string) {
	if !strings.Contains(text, "$") {
		return []string{text}, ""
	}
	count := 0
	i := 0
	for {
		if count > maxSubstitution {
			return nil, fmt.Sprintf("more than %d parameter substitutions in one line", maxSubstitution)
		}
		if len(text) > MaxLineLen {
			return nil, fmt.Sprintf("line longer than %d bytes after parameter substitution", MaxLineLen)
		}
		j := strings.IndexByte(text[i:], '$')
		if j < 0 {
			return []string{text}, ""
		}
		start := i + j
		name, end, ok := paramAt(text, start)
		if !ok {
			i = start + 1
			continue
		}
		value, known := p.value(pos, name)
		if !known {
			i = start + 1
			continue
		}
		count++
		text = text[:start] + value + text[end:]
		p.substWork += len(text)
		if p.substWork > maxSubstWork {
			return nil, fmt.Sprintf("parameter substitution produces more than %d bytes in total", maxSubstWork)
		}
		if strings.Contains(value, "\n") {
			return strings.Split(text, "\n"), ""
		}
		i = start // the value may itself hold parameters
	}
}

// paramAt parses $NAME or ${NAME} (or ${_RANDOM ...}, ${_ENV X}) at text[start].
func paramAt(text string, start int) (name string, end int, ok bool) {
	if start+1 >= len(text) {
		return "", 0, false
	}
	if text[start+1] == '{' {
		close := strings.IndexByte(text[start+2:], '}')
		if close < 0 {
			return "", 0, false
		}
		inner := text[start+2 : start+2+close]
		if inner == "" {
			return "", 0, false
		}
		return inner, start + 3 + close, true
	}
	if !isNameStart(text[start+1]) {
		return "", 0, false
	}
	e := start + 2
	for e < len(text) && isNameChar(text[e]) {
		e++
	}
	if e < len(text) && text[e] != ' ' && text[e] != '\t' && text[e] != '\n' {
		return "", 0, false // $NAME must be followed by a blank or the end of the line
	}
	return text[start+1 : e], e, true
}

// value is a parameter's replacement text (lines joined with \n) and whether it is defined.
func (p *preprocessor) value(pos Pos, name string) (string, bool) {
	if v, ok := p.defs[name]; ok {
		return strings.Join(v, "\n"), true
	}
	switch {
	case name == "_PWD":
		dir, err := filepath.Abs(filepath.Dir(pos.File))
		if err != nil {
			dir = filepath.Dir(pos.File)
		}
		return dir, true
	case name == "_INSTANCE":
		return p.configID, true
	case name == "_HASH":
		return "#", true
	case name == "_BANG":
		return "!", true
	case strings.HasPrefix(name, "_ENV "):
		v := strings.TrimSpace(strings.TrimPrefix(name, "_ENV "))
		p.warn(pos, "${_ENV %s}: replaced by this machine's value %q at conversion time", v, p.env(v))
		return p.env(v), true
	case name == "_RANDOM" || strings.HasPrefix(name, "_RANDOM "):
		p.refuse(pos, "${_RANDOM}: not supported by lvsd (a value chosen at each start cannot be written into a fixed configuration)")
		return "0", true
	}
	return "", false
}

// sequence expands a line starting with ~SEQ(...), ~SEQx(...) or ~LST(...).
func (p *preprocessor) sequence(pos Pos, text string, depth int) {
	if depth > maxSeqNesting+maxExpandDepth {
		p.limit(pos, "~SEQ/~LST nested too deeply")
		return
	}
	// Parameters inside the specification are substituted first.
	open := strings.IndexByte(text, '(')
	close := matchingParen(text, open)
	if open < 0 || close < 0 {
		p.refuse(pos, "%s: missing ( or )", text[:min(len(text), 5)])
		return
	}
	kind := text[:open]
	spec := text[open+1 : close]
	rest := strings.TrimSpace(text[close+1:])
	if sub, err := p.substitute(pos, spec); err == "" && len(sub) == 1 {
		spec = sub[0]
	}
	var vars []string
	var values [][]string
	var bad string
	switch kind {
	case "~SEQ", "~SEQx":
		vars, values, bad = seqValues(spec, kind == "~SEQx")
	case "~LST":
		vars, values, bad = lstValues(spec)
	default:
		p.refuse(pos, "%s: unknown sequence keyword (keepalived knows ~SEQ, ~SEQx, ~LST)", kind)
		return
	}
	if bad != "" {
		p.limit(pos, "%s: %s", kind, bad)
		return
	}
	for _, vals := range values {
		if p.stopped {
			return
		}
		p.seqRuns++
		if p.seqRuns > maxSeqRuns {
			p.limit(pos, "%s: more than %d lines from ~SEQ/~LST in total", kind, maxSeqRuns)
			return
		}
		for k, v := range vars {
			p.defs[v] = []string{vals[k]}
		}
		p.line(pos, rest, depth+1)
	}
	for _, v := range vars {
		delete(p.defs, v)
	}
}

func matchingParen(s string, open int) int {
	if open < 0 {
		return -1
	}
	level := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '(':
			level++
		case ')':
			level--
			if level == 0 {
				return i
			}
		}
	}
	return -1
}

func splitArgs(spec string) []string {
	parts := strings.Split(spec, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// seqValues evaluates ~SEQ(var, [start,] [step,] end).
func seqValues(spec string, hex bool) ([]string, [][]string, string) {
	args := splitArgs(spec)
	if len(args) < 2 || len(args) > 4 {
		return nil, nil, "want (VAR, [START,] [STEP,] END)"
	}
	name := args[0]
	nums := make([]int64, 0, 3)
	for _, a := range args[1:] {
		n, err := strconv.ParseInt(a, 0, 64)
		if err != nil {
			return nil, nil, fmt.Sprintf("%q is not a number", a)
		}
		nums = append(nums, n)
	}
	var start, step, end int64
	switch len(nums) {
	case 1:
		end = nums[0]
		start = 1
		if end < 0 {
			start = -1
		}
	case 2:
		start, end = nums[0], nums[1]
	case 3:
		start, step, end = nums[0], nums[1], nums[2]
	}
	if step == 0 {
		step = 1
		if end < start {
			step = -1
		}
	}
	if n := (end-start)/step + 1; n > maxSeqValues {
		return nil, nil, fmt.Sprintf("more than %d values", maxSeqValues)
	}
	var values [][]string
	for v := start; (step > 0 && v <= end) || (step < 0 && v >= end); v += step {
		if len(values) >= maxSeqValues {
			return nil, nil, fmt.Sprintf("more than %d values", maxSeqValues)
		}
		s := strconv.FormatInt(v, 10)
		if hex {
			s = strconv.FormatInt(v, 16)
		}
		values = append(values, []string{s})
	}
	return []string{name}, values, ""
}

// lstValues evaluates ~LST(var, v1, v2, ...) and ~LST({a, b}, {1, 2}, {3, 4}).
func lstValues(spec string) ([]string, [][]string, string) {
	groups := splitGroups(spec)
	if len(groups) < 2 {
		return nil, nil, "want (VAR, VALUE, ...)"
	}
	vars := groups[0]
	var values [][]string
	for _, g := range groups[1:] {
		if len(g) != len(vars) {
			return nil, nil, fmt.Sprintf("%d values for %d variables", len(g), len(vars))
		}
		if len(values) >= maxSeqValues {
			return nil, nil, fmt.Sprintf("more than %d values", maxSeqValues)
		}
		values = append(values, g)
	}
	return vars, values, ""
}

// splitGroups splits "a, b, {c, d}" into [[a] [b] [c d]].
func splitGroups(spec string) [][]string {
	var out [][]string
	for spec = strings.TrimSpace(spec); spec != ""; spec = strings.TrimSpace(spec) {
		if spec[0] == '{' {
			end := strings.IndexByte(spec, '}')
			if end < 0 {
				return nil
			}
			out = append(out, splitArgs(spec[1:end]))
			spec = strings.TrimPrefix(strings.TrimSpace(spec[end+1:]), ",")
			continue
		}
		v, rest, _ := strings.Cut(spec, ",")
		out = append(out, []string{strings.TrimSpace(v)})
		spec = rest
	}
	return out
}
