package main

import (
	"context"
	"runtime"
	"time"
)

// sawtooth allocates bursts that live for a few ticks, then become garbage: heap in-use rises and
// falls with every GC, with no trend.
func sawtooth(ctx context.Context, cfg config) {
	var live [][]byte
	round := 0
	every(ctx, cfg, func(n int64) {
		round++
		live = appendChunk(live, n*4)
		if round%8 == 0 {
			live = nil
			runtime.GC()
		}
	})
}

// warmupThenPlateau fills a cache quickly after start, then only replaces entries: growth that
// decelerates into a plateau, which must not be called a leak.
func warmupThenPlateau(ctx context.Context, cfg config) {
	const entry = 64 << 10
	capacity := int(cfg.plateauBytes / entry)
	cache := make([][]byte, 0, capacity)
	next := 0
	ticker := time.NewTicker(cfg.tick)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			// Fill a fraction of what is left each tick, so growth slows as the cache fills.
			missing := capacity - len(cache)
			fill := missing / 8
			if fill < 1 && missing > 0 {
				fill = 1
			}
			for i := 0; i < fill; i++ {
				cache = append(cache, make([]byte, entry))
			}
			if len(cache) == capacity && capacity > 0 {
				cache[next%capacity] = make([]byte, entry) // replacement, not growth
				next++
			}
		}
	}
}
