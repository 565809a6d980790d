package config

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Load reads a .hcl file, or a directory of *.hcl files merged in name order (duplicates
// across files are errors naming both places). On any problem it returns Diagnostics with
// every problem found, sorted by file, line and column; warnings are in Config.Warnings.
func Load(path string) (*Config, error) {
	files, err := readFiles(path)
	if err != nil {
		return nil, err
	}
	return ParseFiles(files)
}

// Loader loads the same configuration again and again, as a daemon does on every reload.
// It keeps the decoded form of each top-level item (see items.go) of its last load, so
// that the next load parses only the items whose text changed: on a table of 37,000 real
// servers with one weight edited that is one block of the 2.2 MB instead of all of it. The
// price is the decoded items kept in memory between loads (about 36 MB for that table).
// The zero value is ready; loads through one Loader are serialised.
type Loader struct {
	mu    sync.Mutex
	state loadState
}

// loadState is what one load leaves for the next.
type loadState struct {
	items itemCache
	memo  vsMemo
}

// Load is the package's Load, reusing what the last load through l decoded.
func (l *Loader) Load(path string) (*Config, error) {
	files, err := readFiles(path)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return parseFiles(files, &l.state, true)
}

// readFiles reads path: one file, or a directory's *.hcl files in name order.
func readFiles(path string) ([]File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, Diagnostics{{File: path, Message: "cannot read config: " + errText(err)}}
	}
	var names []string
	if st.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, Diagnostics{{File: path, Message: "cannot read config directory: " + errText(err)}}
		}
		for _, e := range entries {
			if !e.IsDir() && strings.HasSuffix(e.Name(), ".hcl") && !strings.HasPrefix(e.Name(), ".") {
				names = append(names, filepath.Join(path, e.Name()))
			}
		}
		sort.Strings(names)
		if len(names) == 0 {
			return nil, Diagnostics{{File: path, Message: "no *.hcl files in the config directory"}}
		}
	} else {
		names = []string{path}
	}
	files := make([]File, 0, len(names))
	var diags Diagnostics
	for _, n := range names {
		src, d := readSource(n)
		if d != nil {
			diags = append(diags, *d)
			continue
		}
		files = append(files, File{Name: n, Src: src})
	}
	if len(diags) > 0 {
		diags.Sort()
		return nil, diags.capped()
	}
	return files, nil
}

// errText is an os error without the path that the diagnostic already names.
func errText(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

// File is one configuration source: its name (used in positions) and its content.
type File struct {
	Name string
	Src  []byte
}

// Parse decodes and validates one configuration held in memory.
func Parse(filename string, src []byte) (*Config, error) {
	return ParseFiles([]File{{Name: filename, Src: src}})
}

// ParseFiles decodes, merges (in the order given) and validates configuration sources.
func ParseFiles(files []File) (*Config, error) {
	return parseFiles(files, nil, true)
}

// parsedFile is one file's top level: decoded items, or the whole file's syntax tree when
// it had to be parsed in one piece.
type parsedFile struct {
	blocks []*rawBlock
	dec    sink // the items' decoding problems, reported only if no file has syntax errors
	body   *hclsyntax.Body
}

// parseFiles is ParseFiles reusing and refilling st when it is not nil. With split false
// every file is parsed in one piece (tests compare the two ways).
func parseFiles(files []File, st *loadState, split bool) (*Config, error) {
	s := &sink{}
	var cache *itemCache
	if st != nil {
		cache, s.memo = &st.items, &st.memo
	}
	var parser *hclparse.Parser
	var parsed []parsedFile
	tokens := 0
	refused := map[string]bool{} // by the screen: not worth scanning for keepalived syntax
	next := itemCache{}
	for _, f := range files {
		if d := screen(f, &tokens); d != nil {
			s.errs = append(s.errs, *d)
			refused[f.Name] = true
			continue
		}
		if split {
			if p, ok := parseItems(f, cache, next); ok {
				parsed = append(parsed, p)
				continue
			}
		}
		if parser == nil {
			parser = hclparse.NewParser()
		}
		hf, diags := parser.ParseHCL(f.Src, f.Name)
		s.addHCL(diags)
		if hf == nil {
			continue
		}
		if body, ok := hf.Body.(*hclsyntax.Body); ok {
			parsed = append(parsed, parsedFile{body: body})
		}
	}
	if cache != nil {
		*cache = next
	}
	// A syntax error makes the rest unreliable (a missing brace would turn into a cascade
	// of bogus schema errors), so report the syntax errors of every file and stop there.
	if len(s.errs) > 0 {
		for _, f := range files {
			if !refused[f.Name] && LooksLikeKeepalived(f.Src) {
				return nil, Diagnostics{{File: f.Name, Message: keepalivedSyntax + f.Name + "`"}}
			}
		}
		s.errs.Sort()
		return nil, s.errs.capped()
	}
	top := &rawBlock{}
	for _, p := range parsed {
		if p.body != nil {
			part := &rawBlock{}
			s.decodeBody(p.body, topSchema, part)
			top.Blocks = append(top.Blocks, part.Blocks...)
			continue
		}
		top.Blocks = append(top.Blocks, p.blocks...)
		s.errs = append(s.errs, p.dec.errs...)
		s.warns = append(s.warns, p.dec.warns...)
	}
	first := ""
	if len(files) > 0 {
		first = files[0].Name
	}
	cfg := s.build(top, first)
	for _, f := range files {
		cfg.Files = append(cfg.Files, f.Name)
	}
	if len(s.errs) > 0 {
		s.errs.Sort()
		return nil, s.errs.capped()
	}
	s.warns.Sort()
	cfg.Warnings = s.warns.capped()
	return cfg, nil
}

// itemCache holds decoded top-level items by file name and text.
type itemCache map[string]map[string]*cachedItem

// cachedItem is an item decoded without any problem, and where it was then.
type cachedItem struct {
	line, byte int
	blocks     []*rawBlock
}

// parseItems parses and decodes f item by item, taking unchanged items from cache (each at
// most once: they move to next, shifted to where they are now) and adding the others to
// next when they decode without a problem. ok is false when an item has a syntax problem
// of its own: f must then be parsed in one piece.
func parseItems(f File, cache *itemCache, next itemCache) (parsedFile, bool) {
	var p parsedFile
	var prev map[string]*cachedItem
	if cache != nil {
		prev = (*cache)[f.Name]
	}
	keep := func(text []byte, it *cachedItem) {
		if next[f.Name] == nil {
			next[f.Name] = map[string]*cachedItem{}
		}
		next[f.Name][string(text)] = it
	}
	for _, it := range splitItems(f.Src) {
		text := f.Src[it.start:it.end]
		if c := prev[string(text)]; c != nil {
			delete(prev, string(text))
			if c.line != it.line || c.byte != it.start {
				for _, b := range c.blocks {
					b.shift(it.line-c.line, it.start-c.byte)
				}
				c.line, c.byte = it.line, it.start
			}
			keep(text, c)
			p.blocks = append(p.blocks, c.blocks...)
			continue
		}
		hf, diags := hclsyntax.ParseConfig(text, f.Name, hcl.Pos{Line: it.line, Column: 1, Byte: it.start})
		if len(diags) > 0 {
			return parsedFile{}, false
		}
		body, ok := hf.Body.(*hclsyntax.Body)
		if !ok {
			return parsedFile{}, false
		}
		is := &sink{}
		part := &rawBlock{}
		is.decodeBody(body, topSchema, part)
		if cache != nil && len(is.errs) == 0 && len(is.warns) == 0 {
			keep(text, &cachedItem{line: it.line, byte: it.start, blocks: part.Blocks})
		}
		p.dec.errs = append(p.dec.errs, is.errs...)
		p.dec.warns = append(p.dec.warns, is.warns...)
		p.blocks = append(p.blocks, part.Blocks...)
	}
	return p, true
}

// rangeOf is the range to blame for a block: its label if it has one, else its type.
func rangeOf(b *rawBlock) hcl.Range {
	if len(b.LabelRanges) > 0 {
		return b.LabelRanges[0]
	}
	return b.TypeRange
}
