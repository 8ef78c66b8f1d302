package jobs

import (
	"github.com/riverqueue/river"

	"github.com/acme/crm/internal/metrics"
)

// jobEvents are the River events an attempt of a job ends with.
var jobEvents = []river.EventKind{river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled,
	river.EventKindJobSnoozed, river.EventKindJobInterrupted}

// observe counts and times the attempts River reports, by job kind and the
// state each left its job in, until River closes the channel (at Stop).
func observe(events <-chan *river.Event) {
	for ev := range events {
		if ev.Job == nil {
			continue
		}
		state := string(ev.Job.State) // completed, cancelled; retryable or discarded after a failure
		switch ev.Kind {
		case river.EventKindJobSnoozed:
			state = "snoozed" // a slice of a long job ended; it goes on at once
		case river.EventKindJobInterrupted:
			state = "interrupted" // a shutdown: made available again
		}
		metrics.JobAttempts.WithLabelValues(ev.Job.Kind, state).Inc()
		if s := ev.JobStats; s != nil {
			metrics.JobDuration.WithLabelValues(ev.Job.Kind, state).Observe(s.RunDuration.Seconds())
			metrics.JobWait.WithLabelValues(ev.Job.Kind).Observe(s.QueueWaitDuration.Seconds())
		}
	}
}
