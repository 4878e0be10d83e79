package main

import (
	"context"
	"sort"
	"time"
)

// A behaviour runs until its context is cancelled. Leaks keep what they retained after a switch
// (that is what a leak is); healthy behaviours release their memory when they stop.
type behaviour func(ctx context.Context, cfg config)

var behaviours = map[string]behaviour{
	// Leaks.
	"slice":             leakSlice,
	"cache":             leakCache,
	"goroutine-ticker":  leakGoroutinesOnTicker,
	"goroutine-context": leakGoroutinesOnContext,
	// Healthy patterns.
	"sawtooth": sawtooth,
	"warmup":   warmupThenPlateau,
	"idle":     idle,
}

func behaviourNames() []string {
	names := make([]string, 0, len(behaviours))
	for name := range behaviours {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// every calls fn once per tick with the bytes due for that tick.
func every(ctx context.Context, cfg config, fn func(bytes int64)) {
	ticker := time.NewTicker(cfg.tick)
	defer ticker.Stop()
	perTick := int64(float64(cfg.bytesPerSecond) * cfg.tick.Seconds())
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			fn(perTick)
		}
	}
}

func idle(ctx context.Context, _ config) { <-ctx.Done() }
