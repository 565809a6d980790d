package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"sync"
	"text/tabwriter"
)

// The man page and the shell completions are generated from the commands themselves: each
// command is run with --help while newFlagSet records the FlagSets it makes, so what they
// document is exactly what the command parses. Adding a command to commands() (and, for a
// command with subcommands, using runSubcommands) is all it takes to document it.

// commandDoc is one command or subcommand as its --help describes it.
type commandDoc struct {
	name    string // "run", "ipvs list"
	args    string // what follows "[flags]" in the usage line
	help    string // the long description
	summary string // one line, from the commands table or the subcommand list
	fs      *flag.FlagSet
	subs    []subcommand // for a command that only dispatches to subcommands
}

// flags returns the command's flags sorted by name (as --help prints them).
func (d commandDoc) flags() []*flag.Flag {
	var out []*flag.Flag
	if d.fs != nil {
		d.fs.VisitAll(func(f *flag.Flag) { out = append(out, f) })
	}
	return out
}

var recorder struct {
	sync.Mutex
	docs *[]commandDoc // non-nil while describe runs
}

func record(d commandDoc) {
	recorder.Lock()
	defer recorder.Unlock()
	if recorder.docs != nil {
		*recorder.docs = append(*recorder.docs, d)
	}
}

func describing() bool {
	recorder.Lock()
	defer recorder.Unlock()
	return recorder.docs != nil
}

// describeMu serializes describe calls (the recorder is process-wide).
var describeMu sync.Mutex

// describe runs every command with --help, output discarded, and returns what each
// documented: commands in table order, a command's subcommands right after it.
func describe() []commandDoc {
	describeMu.Lock()
	defer describeMu.Unlock()
	var all []commandDoc
	for _, c := range commands() {
		docs := recordHelp(c.run)
		if len(docs) == 0 {
			// A command without a FlagSet still gets documented, by its summary.
			docs = []commandDoc{{name: c.name}}
		}
		docs[0].summary = c.summary
		all = append(all, docs...)
	}
	return all
}

// recordHelp runs `run --help` with output discarded and returns the FlagSets it made.
func recordHelp(run func(args []string, stdout, stderr io.Writer) int) []commandDoc {
	var docs []commandDoc
	recorder.Lock()
	outer := recorder.docs
	recorder.docs = &docs
	recorder.Unlock()
	run([]string{"--help"}, io.Discard, io.Discard)
	recorder.Lock()
	recorder.docs = outer
	recorder.Unlock()
	return docs
}

// subcommand is one verb of a command such as `lvsd ipvs list`.
type subcommand struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

// runSubcommands dispatches `lvsd PARENT SUB [flags]` to the subcommand named by args[0].
// With no subcommand or an unknown one it is a usage error (exit 2); --help prints help
// (the description and the list of subcommands) to stdout.
func runSubcommands(parent, help string, subs []subcommand, args []string, stdout, stderr io.Writer) int {
	names := make([]string, len(subs))
	for i, s := range subs {
		names[i] = s.name
	}
	want := strings.Join(names, ", ")
	if len(args) == 0 {
		fmt.Fprintf(stderr, "lvsd %s: missing subcommand: %s\n", parent, want)
		fmt.Fprintf(stderr, "Run 'lvsd %s --help' for usage.\n", parent)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help":
		var list strings.Builder
		tw := tabwriter.NewWriter(&list, 0, 0, 2, ' ', 0)
		for _, s := range subs {
			fmt.Fprintf(tw, "  %s\t%s\n", s.name, s.summary)
		}
		tw.Flush()
		fmt.Fprintf(stdout, "Usage: lvsd %s <subcommand> [flags]\n\n%s\n\nSubcommands:\n%s\nRun 'lvsd %s <subcommand> --help' for a subcommand's flags.\n",
			parent, strings.TrimSpace(help), list.String(), parent)
		if describing() {
			record(commandDoc{name: parent, args: " <subcommand>", help: help, subs: subs})
			for _, s := range subs {
				docs := recordHelp(s.run)
				if len(docs) == 0 {
					docs = []commandDoc{{name: parent + " " + s.name, help: s.summary}}
				}
				docs[0].summary = s.summary
				for _, d := range docs {
					record(d)
				}
			}
		}
		return exitOK
	}
	for _, s := range subs {
		if s.name == args[0] {
			return s.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "lvsd %s: unknown subcommand %q (want %s)\n", parent, args[0], want)
	fmt.Fprintf(stderr, "Run 'lvsd %s --help' for usage.\n", parent)
	return exitUsage
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}
