package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/lvsd/lvsd/internal/config"
)

const validateHelp = `
Check a configuration without touching the system. PATH is a .hcl file or a directory
whose *.hcl files are merged.

Valid: exit 0 and a one-line summary on stdout (warnings, if any, on stderr).
Invalid: exit 1 and one line per problem on stderr, as FILE:LINE:COL: message.`

func cmdValidate(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("validate", "", validateHelp, stderr)
	path := fs.String("config", "", "configuration file or directory of *.hcl files (required)")
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	if !noArgs(fs, stderr) || !requireFlag(fs, "config", *path, stderr) {
		return exitUsage
	}
	cfg, ok := loadConfig(*path, stderr)
	if !ok {
		return exitFail
	}
	fmt.Fprintf(stdout, "%s: valid: %s\n", *path, cfg.Summary())
	return exitOK
}

// loadConfig loads and validates path, printing every problem (and every warning) to
// stderr in compiler style. run and validate share it so that both refuse exactly the
// same configs with exactly the same messages.
func loadConfig(path string, stderr io.Writer) (*config.Config, bool) {
	cfg, err := config.Load(path)
	if err != nil {
		var diags config.Diagnostics
		if errors.As(err, &diags) {
			for _, d := range diags {
				fmt.Fprintln(stderr, d.String())
			}
			fmt.Fprintf(stderr, "%s: %s\n", path, countProblems(diags.Count()))
		} else {
			fmt.Fprintf(stderr, "lvsd: %v\n", err)
		}
		return nil, false
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintln(stderr, w.String())
	}
	return cfg, true
}

func countProblems(n int) string {
	if n == 1 {
		return "1 problem, nothing applied"
	}
	return fmt.Sprintf("%d problems, nothing applied", n)
}
