package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// newFlagSet returns a FlagSet whose -h output is the command's full help: usage line,
// description and every flag with its default.
func newFlagSet(name, argsUsage, description string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("lvsd "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	record(commandDoc{name: name, args: argsUsage, help: description, fs: fs})
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: lvsd %s [flags]%s\n\n%s\n", name, argsUsage, strings.TrimSpace(description))
		var n int
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(w, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses args; on -h it prints help to stdout and returns (0, false); on a bad
// flag it returns (2, false) after the flag package printed the problem and the usage.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) (int, bool) {
	// The flag package prints the usage itself on -h and on errors; capture it so that
	// help goes to stdout (exit 0) and errors to stderr (exit 2).
	stderr := fs.Output()
	var buf bytes.Buffer
	fs.SetOutput(&buf)
	err := fs.Parse(args)
	fs.SetOutput(stderr)
	if errors.Is(err, flag.ErrHelp) {
		stdout.Write(buf.Bytes())
		return exitOK, false
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\nRun '%s --help' for usage.\n", fs.Name(), err, fs.Name())
		return exitUsage, false
	}
	return 0, true
}

// noArgs reports a usage error when positional arguments remain.
func noArgs(fs *flag.FlagSet, stderr io.Writer) bool {
	if fs.NArg() == 0 {
		return true
	}
	fmt.Fprintf(stderr, "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
	fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", fs.Name())
	return false
}

// requireFlag reports a usage error when a required string flag is empty.
func requireFlag(fs *flag.FlagSet, name, value string, stderr io.Writer) bool {
	if value != "" {
		return true
	}
	fmt.Fprintf(stderr, "%s: --%s is required\n", fs.Name(), name)
	fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", fs.Name())
	return false
}
