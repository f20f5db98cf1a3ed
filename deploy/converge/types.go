package converge

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Target is one service whose convergence Wait judges.
type Target struct {
	// ServiceID identifies the service; when empty, Name is resolved once at the start.
	ServiceID string
	// Name is the service's name, used in progress, reports and errors.
	Name string
	// PrevVersion is the service's Version.Index observed before this apply; 0 means the apply
	// created the service. Only update states written after it are this apply's.
	PrevVersion uint64
	// Changed says whether this apply updated (or created) the service. An unchanged service
	// must still be converged, but an update state left from an earlier update (a stale
	// paused or rolled back state) must not fail it.
	Changed bool
}

// Phase is where a service stands on its way to convergence.
type Phase string

// Phases, in the order a healthy service goes through them.
const (
	// PhasePending: no task of the current spec exists yet.
	PhasePending Phase = "Pending"
	// PhaseConverging: tasks of the current spec exist, not all of them run.
	PhaseConverging Phase = "Converging"
	// PhaseStabilising: every task of the current spec runs; waiting out the stability window.
	PhaseStabilising Phase = "Stabilising"
	// PhaseConverged: the current spec runs, stable (for jobs: completed).
	PhaseConverged Phase = "Converged"
	// PhaseFailed: the service cannot converge without a new apply.
	PhaseFailed Phase = "Failed"
)

// Reason says why a service failed to converge. The values are PascalCase so that callers
// can use them as condition reasons.
type Reason string

// Reasons a wait fails.
const (
	// ImageNotFound: a task of the current spec was rejected because its image is missing.
	ImageNotFound Reason = "ImageNotFound"
	// TaskRejected: a task of the current spec was rejected for another reason.
	TaskRejected Reason = "TaskRejected"
	// TaskFailed: tasks of the current spec keep failing, or failed and will not restart.
	TaskFailed Reason = "TaskFailed"
	// Unhealthy: tasks of the current spec keep failing their healthcheck.
	Unhealthy Reason = "Unhealthy"
	// UpdatePaused: the engine paused this apply's update.
	UpdatePaused Reason = "UpdatePaused"
	// RolledBack: the engine rolled this apply's update back (or is rolling it back).
	RolledBack Reason = "RolledBack"
	// ServiceRemoved: the service disappeared while waiting.
	ServiceRemoved Reason = "ServiceRemoved"
	// Timeout: the bound passed before every service converged.
	Timeout Reason = "Timeout"
)

// Progress is one service's state, passed to Options.Progress whenever it changes.
type Progress struct {
	Service string
	// Mode is replicated, global, replicated-job or global-job.
	Mode string
	// Running counts the current spec's tasks that run on usable nodes (for jobs: completed).
	Running int
	// Desired is the number of tasks the service asks for (for jobs: completions).
	Desired     int
	UpdateState string
	Phase       Phase
	// Message says what the service waits for, or why it failed (the last task error).
	Message string
}

// TaskSummary is the part of a task that explains a service's state.
type TaskSummary struct {
	ID string
	// Slot is the replica slot (replicated modes); NodeID places the task.
	Slot         int
	NodeID       string
	Image        string
	State        string
	DesiredState string
	// Since is when the task entered State, by the engine's clock.
	Since time.Time
	// Err is the task's error, such as "No such image: app:2" or "task: non-zero exit (1)".
	Err string
	// Health is "starting" or "unhealthy" for tasks of a spec with a healthcheck that have
	// not passed it; empty otherwise.
	Health string
	// UpToDate says whether the task runs the service's current spec.
	UpToDate bool
}

// String renders the summary as one line for messages.
func (s TaskSummary) String() string {
	var b strings.Builder
	if s.Slot > 0 {
		fmt.Fprintf(&b, "slot %d", s.Slot)
	} else {
		fmt.Fprintf(&b, "node %s", shortID(s.NodeID))
	}
	fmt.Fprintf(&b, " task %s %s", shortID(s.ID), s.State)
	if s.Health != "" {
		fmt.Fprintf(&b, " (health: %s)", s.Health)
	}
	if s.DesiredState != "" && s.DesiredState != s.State {
		fmt.Fprintf(&b, " desired %s", s.DesiredState)
	}
	if !s.UpToDate {
		b.WriteString(" (previous spec)")
	}
	if s.Err != "" {
		fmt.Fprintf(&b, ": %s", s.Err)
	}
	return b.String()
}

// ServiceReport is one service's outcome.
type ServiceReport struct {
	Name      string
	ServiceID string
	Mode      string
	Phase     Phase
	// ConvergedAt is when the service was judged converged; zero if it was not.
	ConvergedAt time.Time
	// Duration is from the start of Wait to ConvergedAt, or to the end of Wait.
	Duration         time.Duration
	Running, Desired int
	UpdateState      string
	Message          string
	// Tasks are the last observed tasks that explain the state: the newest task of each slot
	// (or node), the last failed one where it is not the newest, and tasks of the previous
	// spec that still should run.
	Tasks []TaskSummary
}

// Report is the outcome of Wait, returned with and without an error.
type Report struct {
	Services []ServiceReport
	Elapsed  time.Duration
}

// ServiceFailure is one service that failed, or had not converged when the bound passed.
type ServiceFailure struct {
	Service string
	Reason  Reason
	Message string
	Tasks   []TaskSummary
}

// Error is returned by Wait when a service cannot converge or the bound passes. Service,
// Message and Tasks repeat the first entry of Services, the common single-service case.
type Error struct {
	Reason  Reason
	Service string
	Message string
	Tasks   []TaskSummary
	// Services lists every service that failed in the same observation or, for Timeout,
	// every service that had not converged.
	Services []ServiceFailure
	// After is how long Wait had waited.
	After time.Duration
}

func newError(reason Reason, failures []ServiceFailure, after time.Duration) *Error {
	e := &Error{Reason: reason, Services: failures, After: after}
	if len(failures) > 0 {
		e.Service, e.Message, e.Tasks = failures[0].Service, failures[0].Message, failures[0].Tasks
	}
	return e
}

// Error names each service with its reason and message.
func (e *Error) Error() string {
	parts := make([]string, 0, len(e.Services))
	for _, f := range e.Services {
		parts = append(parts, fmt.Sprintf("service %s: %s", f.Service, f.Message))
	}
	if e.Reason == Timeout {
		return fmt.Sprintf("not converged after %s: %s", e.After.Round(time.Millisecond), strings.Join(parts, "; "))
	}
	return fmt.Sprintf("%s: %s", e.Reason, strings.Join(parts, "; "))
}

// Unwrap lets errors.Is(err, context.DeadlineExceeded) hold for a timeout.
func (e *Error) Unwrap() error {
	if e.Reason == Timeout {
		return context.DeadlineExceeded
	}
	return nil
}

func shortID(id string) string {
	if len(id) > 10 {
		return id[:10]
	}
	return id
}
