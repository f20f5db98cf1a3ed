package converge

import "time"

// The manager records a task's new state some milliseconds after the node's container event,
// and nothing announces that record. After each event Wait therefore looks again at growing
// delays, from followUpFirst doubling up to followUpLast.
const (
	followUpFirst = 20 * time.Millisecond
	followUpLast  = 640 * time.Millisecond
	minLookGap    = 10 * time.Millisecond
)

// echoes schedules the looks that follow an event: the first at once (but no sooner than
// minLookGap after the previous look, so that a burst of events costs few looks), then at
// delays doubling from followUpFirst up to followUpLast.
type echoes struct {
	// at is when the next look is due; zero when none is.
	at   time.Time
	step time.Duration
}

func (e *echoes) event(now, lastLook time.Time) {
	e.step = followUpFirst
	e.at = later(now, lastLook.Add(minLookGap))
}

// looked schedules the next look after one that started at t.
func (e *echoes) looked(t time.Time) {
	if e.at.IsZero() || t.Before(e.at) {
		return
	}
	if e.step > followUpLast {
		e.at = time.Time{}
		return
	}
	e.at = t.Add(e.step)
	e.step *= 2
}
