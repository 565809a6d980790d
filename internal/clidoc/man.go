package clidoc

import (
	"fmt"
	"io"
	"strings"
)

// Man writes the program's man page in roff (man(7) macros).
func Man(w io.Writer, p Program) error {
	var b strings.Builder
	name := strings.ToUpper(p.Name)
	fmt.Fprintf(&b, ".TH %s %d %q %q %q\n", name, p.Section, p.Date, p.Name+" "+p.Version, "System Administration")
	b.WriteString(".SH NAME\n")
	fmt.Fprintf(&b, "%s \\- %s\n", p.Name, roff(p.Summary))
	b.WriteString(".SH SYNOPSIS\n")
	fmt.Fprintf(&b, ".B %s\n.I command\n.RI [ flags ]\n", p.Name)
	b.WriteString(".SH DESCRIPTION\n")
	paragraphs(&b, p.Description)
	b.WriteString(".SH COMMANDS\n")
	for _, c := range p.Commands {
		flags := " [flags]"
		if len(c.Flags) == 0 {
			flags = ""
		}
		fmt.Fprintf(&b, ".SS \"%s %s%s%s\"\n", p.Name, roff(c.Name()), flags, roff(c.Args))
		help := c.Help
		if strings.TrimSpace(help) == "" {
			help = c.Summary
		}
		paragraphs(&b, help)
		if subs := p.children(c.Path); len(subs) > 0 {
			b.WriteString(".PP\nSubcommands:\n")
			for _, s := range subs {
				fmt.Fprintf(&b, ".TP\n.B %s\n%s\n", roff(s.Name()), roff(s.Summary))
			}
		}
		if len(c.Flags) > 0 {
			b.WriteString(".PP\nFlags:\n")
		}
		for _, f := range c.Flags {
			fmt.Fprintf(&b, ".TP\n\\fB\\-\\-%s\\fR", roff(f.Name))
			if !f.Bool {
				b.WriteString(" \\fIvalue\\fR")
			}
			b.WriteString("\n" + roff(f.Usage))
			if f.Default != "" {
				fmt.Fprintf(&b, " (default: %s)", roff(f.Default))
			}
			b.WriteString("\n")
		}
	}
	if p.Exit != "" {
		b.WriteString(".SH \"EXIT STATUS\"\n")
		paragraphs(&b, p.Exit)
	}
	if len(p.Files) > 0 {
		b.WriteString(".SH FILES\n")
		for _, f := range p.Files {
			fmt.Fprintf(&b, ".TP\n.I %s\n%s\n", roff(f.Term), roff(f.Text))
		}
	}
	if len(p.SeeAlso) > 0 {
		b.WriteString(".SH \"SEE ALSO\"\n")
		for i, s := range p.SeeAlso {
			open := strings.IndexByte(s, '(')
			sep := ","
			if i == len(p.SeeAlso)-1 {
				sep = ""
			}
			if open > 0 {
				fmt.Fprintf(&b, ".BR %s %s%s\n", roff(s[:open]), s[open:], sep)
			} else {
				fmt.Fprintf(&b, "%s%s\n", roff(s), sep)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// paragraphs renders blank-line separated text: indented lines (examples, lists of
// commands) stay as written, the rest is filled.
func paragraphs(b *strings.Builder, text string) {
	for _, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		lines := strings.Split(strings.TrimRight(para, "\n"), "\n")
		b.WriteString(".PP\n")
		if strings.HasPrefix(lines[0], " ") {
			b.WriteString(".nf\n")
			for _, l := range lines {
				b.WriteString(roff(l) + "\n")
			}
			b.WriteString(".fi\n")
			continue
		}
		for _, l := range lines {
			b.WriteString(roff(strings.TrimSpace(l)) + "\n")
		}
	}
}

// roff escapes text for a roff line: backslashes, hyphens (so they stay ASCII minus signs
// for copy and paste), and a leading dot or quote that would read as a request.
func roff(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}
