// Package clidoc renders a command-line program's commands as a man page and as bash, zsh
// and fish completion scripts. The caller describes the commands once (from the same flag
// definitions the commands parse), so the page and the completions never drift from --help.
package clidoc

import (
	"sort"
	"strings"
)

// Program is what the generators document.
type Program struct {
	Name        string    // "lvsd"
	Section     int       // man section, e.g. 8
	Summary     string    // one line for NAME
	Description string    // paragraphs (blank-line separated) for DESCRIPTION
	Commands    []Command // in the order to document them; a subcommand right after its parent
	Exit        string    // EXIT STATUS text
	Files       []Item    // FILES entries
	SeeAlso     []string  // e.g. "keepalived(8)"
	Version     string
	Date        string // for the page footer, e.g. "2026-12-06"
}

// Item is a term and its explanation.
type Item struct{ Term, Text string }

// Command is one command or subcommand.
type Command struct {
	Path    []string // ["ipvs", "list"]
	Args    string   // what follows [flags] in the usage line, e.g. " <subcommand>"
	Summary string   // one line
	Help    string   // long description, paragraphs separated by blank lines
	Flags   []Flag
	// Positional lists the words that may follow the command (e.g. the command names
	// for `help`); completion offers them.
	Positional []string
}

// Name is the command's words joined by spaces ("ipvs list").
func (c Command) Name() string { return strings.Join(c.Path, " ") }

// Flag is one flag of a command.
type Flag struct {
	Name    string
	Usage   string
	Default string   // "" when the zero value (not shown)
	Bool    bool     // takes no value
	Values  []string // the values it accepts, when they are a fixed set
	File    bool     // its value is a path (completion offers files)
}

// children returns the direct subcommands of the command at path (nil path: top level).
func (p Program) children(path []string) []Command {
	var out []Command
	for _, c := range p.Commands {
		if len(c.Path) == len(path)+1 && strings.Join(c.Path[:len(path)], " ") == strings.Join(path, " ") {
			out = append(out, c)
		}
	}
	return out
}

// valueFlags is every flag name that takes a value, across all commands: completion skips
// their values when it looks for the command words typed so far.
func (p Program) valueFlags() []string {
	seen := map[string]bool{}
	for _, c := range p.Commands {
		for _, f := range c.Flags {
			if !f.Bool {
				seen[f.Name] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// words is what completion offers after the command at path: its subcommands, its
// positional words and its flags.
func (p Program) words(c Command) []string {
	var out []string
	for _, s := range p.children(c.Path) {
		out = append(out, s.Path[len(s.Path)-1])
	}
	out = append(out, c.Positional...)
	for _, f := range c.Flags {
		out = append(out, "--"+f.Name)
	}
	return out
}
