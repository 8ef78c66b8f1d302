package server

import (
	"context"
	"time"
)

// segmentCountCompactor is the store's upkeep of the segment count deltas
// (sqlstore.Store.CompactSegmentCounts).
type segmentCountCompactor interface {
	CompactSegmentCounts(ctx context.Context, over int) (bool, error)
}

// CompactSegmentCounts folds the segment count deltas together every
// interval, when there are more than a thousand, until ctx ends.
func CompactSegmentCounts(ctx context.Context, s any, every time.Duration, log interface{ Error(string, ...any) }) {
	c, ok := s.(segmentCountCompactor)
	if !ok {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := c.CompactSegmentCounts(ctx, 1000); err != nil && ctx.Err() == nil {
				log.Error("compacting segment counts", "err", err)
			}
		}
	}
}
