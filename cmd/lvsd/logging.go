package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/sirupsen/logrus"
)

// newLogger returns the daemon's logger. In JSON every duration is a number of seconds
// (a float), not Go's nanoseconds, so that log pipelines can compare and sum them; in text
// it stays readable ("1.5s").
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	var log *slog.Logger
	switch strings.ToLower(format) {
	case "text":
		log = slog.New(slog.NewTextHandler(w, opts))
	case "json":
		opts.ReplaceAttr = durationSeconds
		log = slog.New(slog.NewJSONHandler(w, opts))
	default:
		return nil, fmt.Errorf("--log-format %q: want text or json", format)
	}
	forwardLogrus(log)
	return log, nil
}

// durationSeconds is a slog ReplaceAttr that turns durations into seconds.
func durationSeconds(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		a.Value = slog.Float64Value(a.Value.Duration().Seconds())
	}
	return a
}

// structured returns log when the format is structured (JSON): config diagnostics are
// then logged as records instead of printed as compiler-style text lines.
func structured(format string, log *slog.Logger) *slog.Logger {
	if strings.EqualFold(format, "json") {
		return log
	}
	return nil
}

// forwardLogrus sends what libraries log through logrus (the moby IPVS backend does, when
// it cannot load ip_vs) to our logger, so it has the chosen format too.
func forwardLogrus(log *slog.Logger) {
	logrus.SetOutput(io.Discard)
	logrus.StandardLogger().ReplaceHooks(logrus.LevelHooks{})
	logrus.AddHook(logrusHook{log.With("component", "ipvs")})
}

type logrusHook struct{ log *slog.Logger }

func (logrusHook) Levels() []logrus.Level { return logrus.AllLevels }

func (h logrusHook) Fire(e *logrus.Entry) error {
	level := slog.LevelInfo
	switch {
	case e.Level <= logrus.ErrorLevel:
		level = slog.LevelError
	case e.Level == logrus.WarnLevel:
		level = slog.LevelWarn
	case e.Level >= logrus.DebugLevel:
		level = slog.LevelDebug
	}
	ctx := e.Context
	if ctx == nil {
		ctx = context.Background()
	}
	h.log.Log(ctx, level, e.Message)
	return nil
}
