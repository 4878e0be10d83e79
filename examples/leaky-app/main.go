// leaky-app is a small Go service that leaks memory (or doesn't) on purpose, so LeakWatch has
// something real to watch. It serves net/http/pprof and selectable behaviours whose rates are set
// by flags; a behaviour can be switched at runtime with POST /behaviour?name=... (for tests that
// flap between leaking and healthy).
//
//	leaky-app -listen 127.0.0.1:6060 -behaviour slice -rate 1MiB
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:6060", "comma-separated addresses to serve pprof and control endpoints on")
	behaviourName := flag.String("behaviour", "idle", "one of: "+strings.Join(behaviourNames(), ", "))
	rate := flag.String("rate", "256KiB", "bytes per second retained by slice/cache leaks, or allocated per burst by sawtooth")
	goroutineRate := flag.Float64("goroutine-rate", 5, "goroutines per second leaked by goroutine-ticker/goroutine-context")
	tick := flag.Duration("tick", 250*time.Millisecond, "how often a behaviour does its work")
	plateau := flag.String("plateau", "32MiB", "size the warmup cache settles at")
	flag.Parse()

	perSecond, err := parseBytes(*rate)
	if err != nil {
		log.Fatalf("-rate: %v", err)
	}
	plateauBytes, err := parseBytes(*plateau)
	if err != nil {
		log.Fatalf("-plateau: %v", err)
	}
	cfg := config{bytesPerSecond: perSecond, goroutinesPerSecond: *goroutineRate, tick: *tick, plateauBytes: plateauBytes}
	ctrl := newController(cfg)
	if err := ctrl.set(*behaviourName); err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/behaviour", ctrl.serveHTTP)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	servers := []*http.Server{}
	for _, addr := range strings.Split(*listen, ",") {
		ln, err := net.Listen("tcp", strings.TrimSpace(addr))
		if err != nil {
			log.Fatalf("listen %s: %v", addr, err)
		}
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		servers = append(servers, srv)
		// The "listening" line is what tests wait for: it carries the real port when :0 was asked.
		fmt.Printf("listening on %s behaviour=%s\n", ln.Addr(), *behaviourName)
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Fatal(err)
			}
		}()
	}
	<-ctx.Done()
	ctrl.stop()
	for _, srv := range servers {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = srv.Shutdown(shutdownCtx)
		cancel()
	}
}

type config struct {
	bytesPerSecond      int64
	goroutinesPerSecond float64
	tick                time.Duration
	plateauBytes        int64
}

// controller runs one behaviour at a time and swaps it on request.
type controller struct {
	cfg    config
	mu     sync.Mutex
	name   string
	cancel context.CancelFunc
}

func newController(cfg config) *controller { return &controller{cfg: cfg} }

func (c *controller) set(name string) error {
	run, ok := behaviours[name]
	if !ok {
		return fmt.Errorf("unknown behaviour %q (want one of: %s)", name, strings.Join(behaviourNames(), ", "))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancel != nil {
		c.cancel()
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.name, c.cancel = name, cancel
	go run(ctx, c.cfg)
	return nil
}

func (c *controller) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancel != nil {
		c.cancel()
	}
}

func (c *controller) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		if err := c.set(r.URL.Query().Get("name")); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintln(w, c.name)
}
