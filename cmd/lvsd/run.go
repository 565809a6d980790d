package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/lvsd/lvsd/internal/config"
	"github.com/lvsd/lvsd/internal/daemon"
	"github.com/lvsd/lvsd/internal/metrics"
	"github.com/lvsd/lvsd/internal/sdnotify"
)

const runHelp = `
Run the daemon in the foreground: VRRP instances, the IPVS virtual servers, their health
checks and localnode rules, as configured. PATH is a .hcl file or a directory whose *.hcl
files are merged. An invalid configuration is refused exactly as 'lvsd validate' refuses
it, before anything on the system is touched.

Signals: SIGTERM or SIGINT stop gracefully (a MASTER sends a priority-0 advert so a backup
takes over at once, then removes its VIPs, then the IPVS services lvsd owns unless
global.keep_ipvs_on_stop is set). SIGHUP reloads: PATH is read again and only what
changed is applied (as 'lvsd reload'); a configuration that is invalid or cannot be
applied is logged at ERROR with every problem, and the running one stays.

Under systemd (NOTIFY_SOCKET set) lvsd reports READY=1 once started, RELOADING=1 and
READY=1 around each reload, and STOPPING=1 when it stops.`

func cmdRun(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("run", "", runHelp, stderr)
	path := fs.String("config", "", "configuration file or directory of *.hcl files (required)")
	socket := fs.String("socket", "", "control socket path (default: global.control_socket, "+defaultSocket+")")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	metricsListen := fs.String("metrics-listen", "", "serve Prometheus metrics on http://ADDR/metrics, e.g. 127.0.0.1:9650 (default: global.metrics_listen, off)")
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	if !noArgs(fs, stderr) || !requireFlag(fs, "config", *path, stderr) {
		return exitUsage
	}
	log, err := newLogger(stderr, *logFormat, *logLevel)
	if err != nil {
		fmt.Fprintf(stderr, "lvsd run: %v\nRun 'lvsd run --help' for usage.\n", err)
		return exitUsage
	}
	loader := new(config.Loader)
	cfg, ok := loadConfigWith(loader, *path, stderr, structured(*logFormat, log))
	if !ok {
		return exitFail
	}
	if *metricsListen != "" {
		if err := config.CheckListenAddress(*metricsListen); err != nil {
			fmt.Fprintf(stderr, "lvsd run: --metrics-listen: %v\n", err)
			return exitUsage
		}
	}

	notifier := sdnotify.FromEnv()
	d, err := daemon.New(daemon.Options{Config: cfg, ConfigPath: *path, Loader: loader, Socket: *socket, MetricsListen: *metricsListen,
		Version: version, Log: log, Metrics: metrics.Handler,
		Notify: func(states ...string) {
			if err := notifier.Notify(states...); err != nil {
				log.Warn("tell systemd", "states", states, "err", err)
			}
		}})
	if err != nil {
		log.Error("lvsd stopped with an error", "err", err)
		return exitFail
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				log.Info("SIGHUP received: reloading", "config", *path)
				d.Reload(ctx) // logs what it applied, or every problem at ERROR
			}
		}
	}()

	log.Info("starting", "version", version, "config", *path, "summary", cfg.Summary())
	if err := d.Run(ctx); err != nil {
		log.Error("lvsd stopped with an error", "err", err)
		return exitFail
	}
	log.Info("stopped")
	return exitOK
}
