package stackcmd

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/swarmrun/swarmrun/deploy/converge"
)

// progressPrinter prints one line per service each time its convergence state changes, so a
// long wait shows what every service is doing without flooding the terminal or a CI log.
type progressPrinter struct {
	mu    sync.Mutex
	out   io.Writer
	stack string
	start time.Time
	last  map[string]string
}

func newProgressPrinter(out io.Writer, stack string, start time.Time) *progressPrinter {
	return &progressPrinter{out: out, stack: stack, start: start, last: map[string]string{}}
}

func (p *progressPrinter) update(pr converge.Progress) {
	name := strings.TrimPrefix(pr.Service, p.stack+"_")
	line := fmt.Sprintf("%-20s %d/%d %s", name, pr.Running, pr.Desired, strings.ToLower(string(pr.Phase)))
	if pr.UpdateState != "" {
		line += " (update " + pr.UpdateState + ")"
	}
	if pr.Message != "" {
		line += ": " + pr.Message
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.last[pr.Service] == line {
		return
	}
	p.last[pr.Service] = line
	fmt.Fprintf(p.out, "  [%5.1fs] %s\n", time.Since(p.start).Seconds(), line)
}
