package config

import (
	"errors"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary bytes through the whole pipeline (parse, decode, validate):
// it must never panic, and a failure must always be a non-empty Diagnostics whose lines
// are all positioned in the file.
func FuzzLoad(f *testing.F) {
	// Small seeds only: the engine minimizes every new interesting input, and minimizing
	// the 3 KB full.hcl takes longer than the Makefile's 30 s fuzz run.
	for _, tc := range append(errorCases, warningCases...) {
		f.Add([]byte(tc.src))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		cfg, err := Parse("fuzz.hcl", src)
		if err != nil {
			var ds Diagnostics
			if !errors.As(err, &ds) || len(ds) == 0 {
				t.Fatalf("error is not a non-empty Diagnostics: %#v", err)
			}
			for _, d := range ds {
				if d.File != "fuzz.hcl" || d.Message == "" || strings.Contains(d.Message, "\n") {
					t.Fatalf("bad diagnostic %#v", d)
				}
			}
			return
		}
		_ = cfg.Summary()
	})
}
