// The scale benchmark's fleet: one process that plays thousands of Go services. Target i listens
// on its own loopback address (127.20.x.y, same port for all) and serves /debug/pprof/heap and
// /debug/pprof/goroutine. Heap profiles are real Go profiles read from files (a "small" and a
// "large" class; one target in ten is large); each target rotates through its class's files, one
// step per request, from its own starting point, so consecutive scrapes differ. Goroutine profiles
// are this process's own, captured at start with a varying number of parked goroutines.
//
// A control endpoint on 127.0.0.1 reports how many heap profiles each target has served.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type manifest struct {
	Small []string `json:"small"`
	Large []string `json:"large"`
}

type fleet struct {
	small, large [][]byte
	goroutine    [][]byte
	first        net.IP
	heapServed   []atomic.Int64
	goServed     []atomic.Int64
	bytesServed  atomic.Int64
}

// address of target i: 127.20.0.1, 127.20.0.2, … skipping .0 and .255 in the last octet.
func address(first net.IP, i int) net.IP {
	base := uint32(first[0])<<24 | uint32(first[1])<<16 | uint32(first[2])<<8 | uint32(first[3])
	n := base + uint32(i/254)*256 + uint32(i%254)
	return net.IPv4(byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

func (f *fleet) index(ip net.IP) int {
	ip = ip.To4()
	if ip == nil {
		return -1
	}
	d := (int(ip[1])-int(f.first[1]))*65536 + (int(ip[2])-int(f.first[2]))*256 + int(ip[3]) - int(f.first[3])
	block, rest := d/256, d%256
	if rest < 0 || rest >= 254 {
		return -1
	}
	i := block*254 + rest
	if i < 0 || i >= len(f.heapServed) {
		return -1
	}
	return i
}

func (f *fleet) target(r *http.Request) int {
	local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return -1
	}
	tcp, ok := local.(*net.TCPAddr)
	if !ok {
		return -1
	}
	return f.index(tcp.IP)
}

func (f *fleet) serve(w http.ResponseWriter, r *http.Request) {
	i := f.target(r)
	if i < 0 {
		http.Error(w, "not a fleet address", http.StatusNotFound)
		return
	}
	var body []byte
	switch r.URL.Path {
	case "/debug/pprof/heap":
		n := f.heapServed[i].Add(1)
		class := f.small
		if i%10 == 0 {
			class = f.large
		}
		body = class[(i*7+int(n))%len(class)]
	case "/debug/pprof/goroutine":
		n := f.goServed[i].Add(1)
		body = f.goroutine[(i*3+int(n))%len(f.goroutine)]
	default:
		http.NotFound(w, r)
		return
	}
	f.bytesServed.Add(int64(len(body)))
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	_, _ = w.Write(body)
}

func (f *fleet) control(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/counts":
		counts := make([]int64, len(f.heapServed))
		for i := range counts {
			counts[i] = f.heapServed[i].Load()
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"heap": counts, "bytes": f.bytesServed.Load()})
	default:
		http.NotFound(w, r)
	}
}

//go:noinline
func parkOnChannel(ch chan struct{}, wg *sync.WaitGroup) { wg.Done(); <-ch }

//go:noinline
func parkInSelect(ch chan struct{}, wg *sync.WaitGroup) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	wg.Done()
	select {
	case <-ch:
	case <-t.C:
	}
}

//go:noinline
func parkOnMutex(mu *sync.Mutex, wg *sync.WaitGroup) { wg.Done(); mu.Lock(); mu.Unlock() }

// goroutineProfiles captures `variants` real goroutine profiles of this process, each with a
// different number of goroutines parked at three sites.
func goroutineProfiles(variants int) ([][]byte, error) {
	var out [][]byte
	release := make(chan struct{})
	var mu sync.Mutex
	mu.Lock()
	for v := 0; v < variants; v++ {
		var wg sync.WaitGroup
		for j := 0; j < 8+v; j++ {
			wg.Add(3)
			go parkOnChannel(release, &wg)
			go parkInSelect(release, &wg)
			go parkOnMutex(&mu, &wg)
		}
		wg.Wait()
		time.Sleep(10 * time.Millisecond) // let them reach their park points
		var buf bytes.Buffer
		if err := pprof.Lookup("goroutine").WriteTo(&buf, 0); err != nil {
			return nil, err
		}
		out = append(out, buf.Bytes())
	}
	close(release)
	mu.Unlock()
	return out, nil
}

func readAll(paths []string) ([][]byte, error) {
	var out [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// listenAll binds every target address on one port (chosen by the OS for the first one); when
// another process holds that port on some address, it starts over with a new port.
func listenAll(f *fleet, targets int) ([]net.Listener, int, error) {
	for attempt := 0; attempt < 10; attempt++ {
		first, err := net.Listen("tcp4", net.JoinHostPort(address(f.first, 0).String(), "0"))
		if err != nil {
			return nil, 0, err
		}
		port := first.Addr().(*net.TCPAddr).Port
		ls := []net.Listener{first}
		for i := 1; i < targets; i++ {
			l, err := net.Listen("tcp4", net.JoinHostPort(address(f.first, i).String(), fmt.Sprint(port)))
			if err != nil {
				break
			}
			ls = append(ls, l)
		}
		if len(ls) == targets {
			return ls, port, nil
		}
		for _, l := range ls {
			_ = l.Close()
		}
	}
	return nil, 0, errors.New("no port free on every target address")
}

func main() {
	targets := flag.Int("targets", 500, "simulated targets")
	firstAddr := flag.String("first", "127.20.0.1", "address of target 0")
	manifestPath := flag.String("manifest", "", "JSON: {small: [files], large: [files]} of gzipped heap profiles")
	flag.Parse()

	var m manifest
	raw, err := os.ReadFile(*manifestPath)
	if err == nil {
		err = json.Unmarshal(raw, &m)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "manifest:", err)
		os.Exit(2)
	}
	f := &fleet{first: net.ParseIP(*firstAddr).To4()}
	if f.first == nil || !strings.HasPrefix(*firstAddr, "127.") {
		fmt.Fprintln(os.Stderr, "-first must be a 127.x.y.z address")
		os.Exit(2)
	}
	if f.small, err = readAll(m.Small); err == nil {
		f.large, err = readAll(m.Large)
	}
	if err == nil && (len(f.small) == 0 || len(f.large) == 0) {
		err = errors.New("the manifest needs small and large profiles")
	}
	if err == nil {
		f.goroutine, err = goroutineProfiles(6)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	f.heapServed = make([]atomic.Int64, *targets)
	f.goServed = make([]atomic.Int64, *targets)

	listeners, port, err := listenAll(f, *targets)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	srv := &http.Server{Handler: http.HandlerFunc(f.serve), ReadHeaderTimeout: 10 * time.Second}
	for _, l := range listeners {
		go func() { _ = srv.Serve(l) }()
	}
	ctl, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	go func() { _ = http.Serve(ctl, http.HandlerFunc(f.control)) }()
	fmt.Printf("fleet ready targets=%d port=%d control=%d\n", *targets, port, ctl.Addr().(*net.TCPAddr).Port)

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
	_ = srv.Close()
}
