package config

import (
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Load reads a .hcl file, or a directory of *.hcl files merged in name order (duplicates
// across files are errors naming both places). On any problem it returns Diagnostics with
// every problem found, sorted by file, line and column; warnings are in Config.Warnings.
func Load(path string) (*Config, error) {
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
	return ParseFiles(files)
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
	s := &sink{}
	parser := hclparse.NewParser()
	var bodies []*hclsyntax.Body
	tokens := 0
	refused := map[string]bool{} // by the screen: not worth scanning for keepalived syntax
	for _, f := range files {
		if d := screen(f, &tokens); d != nil {
			s.errs = append(s.errs, *d)
			refused[f.Name] = true
			continue
		}
		hf, diags := parser.ParseHCL(f.Src, f.Name)
		s.addHCL(diags)
		if hf == nil {
			continue
		}
		if body, ok := hf.Body.(*hclsyntax.Body); ok {
			bodies = append(bodies, body)
		}
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
	for _, body := range bodies {
		part := &rawBlock{}
		s.decodeBody(body, topSchema, part)
		top.Blocks = append(top.Blocks, part.Blocks...)
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

// rangeOf is the range to blame for a block: its label if it has one, else its type.
func rangeOf(b *rawBlock) hcl.Range {
	if len(b.LabelRanges) > 0 {
		return b.LabelRanges[0]
	}
	return b.TypeRange
}
