package track

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"strconv"
	"time"
)

// FilePollInterval is how often a track file is looked at. Polling (a stat, and a read when
// it changed) costs nothing at this rate and also sees files replaced by rename or on
// filesystems without inotify.
const FilePollInterval = 500 * time.Millisecond

// maxTrackFile bounds what is read of a track file: it holds one integer.
const maxTrackFile = 4096

// FileTracker reports the integer held by a vrrp_track_file whenever it changes.
type FileTracker struct {
	name, path string
	log        *slog.Logger
	report     func(value int)
	every      time.Duration
}

// NewFileTracker prepares a tracker of path; report gets the first value when Run starts and
// each new value after.
func NewFileTracker(name, path string, log *slog.Logger, report func(value int)) *FileTracker {
	return &FileTracker{name: name, path: path, log: log.With("vrrp_track_file", name, "file", path),
		report: report, every: FilePollInterval}
}

// ReadValue reads a track file as keepalived does: leading blanks, an optional sign and
// digits; anything else (or a missing file) is 0.
func ReadValue(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, maxTrackFile)
	n, _ := f.Read(buf)
	b := bytes.TrimSpace(buf[:n])
	if i := bytes.IndexAny(b, " \t\r\n"); i >= 0 {
		b = b[:i]
	}
	v, err := strconv.Atoi(string(b))
	if err != nil {
		return 0, err
	}
	return v, nil
}

// Run polls the file until ctx ends.
func (t *FileTracker) Run(ctx context.Context) {
	tick := time.NewTicker(t.every)
	defer tick.Stop()
	var last int
	first := true
	for {
		v, err := ReadValue(t.path)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				err = nil // absent = 0, as keepalived
			}
			v = 0
		}
		if first || v != last {
			if err != nil {
				t.log.Warn("track file unreadable: value 0", "err", err)
			}
			t.log.Info("track file value", "value", v)
			t.report(v)
			last, first = v, false
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
