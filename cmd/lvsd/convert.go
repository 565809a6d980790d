package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/lvsd/lvsd/internal/config"
	"github.com/lvsd/lvsd/internal/convert"
)

const convertHelp = `
Translate a keepalived configuration (keepalived's own syntax) into lvsd's HCL.

KEEPALIVED.CONF is read the way keepalived reads it: # and ! comments, include (globs
relative to the including file), $NAME=value parameters with $NAME / ${NAME} substitution,
multi-line definitions ending in \, ~SEQ and ~LST lines, and @ID / @^ID lines selected by
--config-id (keepalived's -i; default: this host's name up to the first dot).

Every keyword is either
  mapped     written in lvsd's form (nb_get_retry -> retry, lvs_sched -> lb_algo,
             virtual_server 10.0.0.1 80 -> "10.0.0.1:80", virtual_server_group expanded,
             keepalived's defaults written out where lvsd's differ);
  dropped    no effect in lvsd (mail, SNMP, process tuning): a comment in the output and
             a warning saying what to use instead;
  refused    it changes behaviour and lvsd cannot do it: one line
             FILE:LINE: keyword: not supported by lvsd (...) for each.
Comments written above a block are carried above the converted block. keepalived's quirks
are kept and noted (auth_pass cut to 8 characters, nopreempt ignored with state MASTER).

The result is validated as 'lvsd validate' would. Warnings and problems go to stderr as
FILE:LINE: message, FILE being the keepalived file (an included one where it came from).
docs/migrating-from-keepalived.md lists every keyword.

Examples:
  lvsd convert /etc/keepalived/keepalived.conf > /etc/lvsd/lvsd.hcl
  lvsd convert --config-id lb2 -o /etc/lvsd/lvsd.hcl /etc/keepalived/keepalived.conf

Exit status: 0 converted (warnings may have been printed); 1 something was refused, the
file could not be read, or the result does not validate: nothing is written (no partial
output file); 2 usage error.`

func cmdConvert(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("convert", " KEEPALIVED.CONF", convertHelp, stderr)
	out := fs.String("o", "", "write the HCL to this file instead of stdout (written only when the conversion succeeds)")
	configID := fs.String("config-id", "", "config id selecting @ID / @^ID lines, as keepalived's -i (default: the host name up to its first dot)")
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	// Flags may also follow the file name.
	var path string
	if fs.NArg() > 0 {
		path = fs.Arg(0)
		if code, ok := parseFlags(fs, fs.Args()[1:], stdout); !ok {
			return code
		}
	}
	if path == "" {
		fmt.Fprintf(stderr, "%s: the keepalived configuration file is required\nRun '%s --help' for usage.\n", fs.Name(), fs.Name())
		return exitUsage
	}
	if !noArgs(fs, stderr) {
		return exitUsage
	}
	if *configID == "" {
		*configID = defaultConfigID()
	}
	res := convert.File(path, convert.Options{ConfigID: *configID, Supported: config.Known})
	for _, d := range res.Diags {
		if d.Refused {
			fmt.Fprintln(stderr, d.String())
		} else {
			fmt.Fprintln(stderr, convert.Diag{Pos: d.Pos, Message: "warning: " + d.Message}.String())
		}
	}
	if res.Refused() {
		fmt.Fprintf(stderr, "%s: not converted, nothing written\n", path)
		return exitFail
	}
	name := *out
	if name == "" {
		name = "converted.hcl"
	}
	if _, err := config.Parse(name, res.HCL); err != nil {
		var diags config.Diagnostics
		if !errors.As(err, &diags) {
			fmt.Fprintf(stderr, "lvsd: %v\n", err)
			return exitFail
		}
		for _, d := range diags {
			if d.IsKeepalivedSyntax() {
				continue
			}
			where := res.Source(d.Line)
			if where.File == "" {
				where.File = path
			}
			// Positions in the message ("first defined at NAME:L:C") are in the HCL that
			// is not written: name the keepalived line instead.
			msg := hclPos.ReplaceAllStringFunc(d.Message, func(m string) string {
				sub := hclPos.FindStringSubmatch(m)
				if sub[1] != name {
					return m
				}
				line, _ := strconv.Atoi(sub[2])
				if src := res.Source(line); src.Line != 0 {
					return src.String()
				}
				return m
			})
			fmt.Fprintf(stderr, "%s: %s\n", where, msg)
		}
		fmt.Fprintf(stderr, "%s: converted, but lvsd would refuse the result (above); nothing written\n", path)
		return exitFail
	}
	if *out == "" {
		stdout.Write(res.HCL)
		return exitOK
	}
	if err := writeFileAtomic(*out, res.HCL); err != nil {
		fmt.Fprintf(stderr, "lvsd convert: %v\n", err)
		return exitFail
	}
	return exitOK
}

// hclPos matches FILE:LINE:COL in a validation message.
var hclPos = regexp.MustCompile(`([^\s(]+):(\d+):(\d+)`)

// defaultConfigID is keepalived's default config id: the host name up to its first dot.
func defaultConfigID() string {
	h, err := os.Hostname()
	if err != nil {
		return ""
	}
	id, _, _ := strings.Cut(h, ".")
	return id
}

// writeFileAtomic writes data to a temporary file beside path and renames it into place,
// so that a failure never leaves a partial file.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(dirOf(path), ".lvsd-convert-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func dirOf(path string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[:i+1]
	}
	return "."
}
