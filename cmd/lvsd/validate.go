package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

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
	cfg, ok := loadConfig(*path, stderr, nil)
	if !ok {
		return exitFail
	}
	fmt.Fprintf(stdout, "%s: valid: %s\n", *path, cfg.Summary())
	return exitOK
}

// loadConfig loads and validates path, printing every problem (and every warning) to
// stderr in compiler style, or logging each as a record when log is not nil (`run
// --log-format json`: every line on stderr is then JSON). run and validate share it so
// that both refuse exactly the same configs with exactly the same messages.
func loadConfig(path string, stderr io.Writer, log *slog.Logger) (*config.Config, bool) {
	return loadConfigWith(new(config.Loader), path, stderr, log)
}

// loadConfigWith is loadConfig through loader (the daemon's, kept for its reloads).
func loadConfigWith(loader *config.Loader, path string, stderr io.Writer, log *slog.Logger) (*config.Config, bool) {
	cfg, err := loader.Load(path)
	if err != nil {
		var diags config.Diagnostics
		switch {
		case errors.As(err, &diags) && log != nil:
			for _, d := range diags {
				logDiagnostic(log, d)
			}
			log.Error("invalid configuration: "+countProblems(diags.Count()), "config", path)
		case errors.As(err, &diags):
			for _, d := range diags {
				fmt.Fprintln(stderr, d.String())
			}
			if len(diags) > 1 || !diags[0].IsKeepalivedSyntax() {
				fmt.Fprintf(stderr, "%s: %s\n", path, countProblems(diags.Count()))
			}
		case log != nil:
			log.Error("cannot load the configuration", "config", path, "err", err)
		default:
			fmt.Fprintf(stderr, "lvsd: %v\n", err)
		}
		return nil, false
	}
	for _, w := range cfg.Warnings {
		if log != nil {
			logDiagnostic(log, w)
		} else {
			fmt.Fprintln(stderr, w.String())
		}
	}
	return cfg, true
}

func logDiagnostic(log *slog.Logger, d config.Diagnostic) {
	level, msg := slog.LevelError, "configuration problem"
	if d.Warning {
		level, msg = slog.LevelWarn, "configuration warning"
	}
	attrs := []slog.Attr{slog.String("file", d.File)}
	if d.Line > 0 {
		attrs = append(attrs, slog.Int("line", d.Line), slog.Int("col", d.Col))
	}
	attrs = append(attrs, slog.String("problem", d.Message))
	log.LogAttrs(context.Background(), level, msg, attrs...)
}

func countProblems(n int) string {
	if n == 1 {
		return "1 problem, nothing applied"
	}
	return fmt.Sprintf("%d problems, nothing applied", n)
}
