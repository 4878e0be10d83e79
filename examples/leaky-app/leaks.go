package main

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// retained is the slice that only grows: the classic "append to a package-level slice" leak.
var retained [][]byte

func leakSlice(ctx context.Context, cfg config) {
	every(ctx, cfg, func(n int64) { retained = appendChunk(retained, n) })
}

func appendChunk(dst [][]byte, n int64) [][]byte {
	chunk := make([]byte, n)
	for i := range chunk {
		chunk[i] = byte(i) // touch the pages so RSS follows the heap
	}
	return append(dst, chunk)
}

// sessionCache is a cache without eviction: keys are never repeated, entries never leave.
type sessionCache struct {
	mu      sync.Mutex
	entries map[string][]byte
	next    int
}

var sessions = &sessionCache{entries: map[string][]byte{}}

func (c *sessionCache) put(value []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.next++
	c.entries[fmt.Sprintf("session-%d", c.next)] = value
}

func leakCache(ctx context.Context, cfg config) {
	every(ctx, cfg, func(n int64) {
		const entry = 4 << 10
		for ; n > 0; n -= entry {
			sessions.put(make([]byte, entry))
		}
	})
}

// Goroutines that wait on a ticker nobody stops, forever.
func leakGoroutinesOnTicker(ctx context.Context, cfg config) {
	spawn(ctx, cfg, func() {
		t := time.NewTicker(time.Hour)
		buf := make([]byte, 16<<10)
		for range t.C {
			_ = buf
		}
	})
}

// Goroutines blocked on a context whose cancel function is kept but never called.
var forgottenCancels struct {
	sync.Mutex
	funcs []context.CancelFunc
}

func leakGoroutinesOnContext(ctx context.Context, cfg config) {
	spawn(ctx, cfg, func() {
		requestCtx, cancel := context.WithCancel(context.Background())
		forgottenCancels.Lock()
		forgottenCancels.funcs = append(forgottenCancels.funcs, cancel)
		forgottenCancels.Unlock()
		buf := make([]byte, 16<<10)
		<-requestCtx.Done()
		_ = buf
	})
}

func spawn(ctx context.Context, cfg config, leak func()) {
	interval := time.Duration(float64(time.Second) / cfg.goroutinesPerSecond)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			go leak()
		}
	}
}
