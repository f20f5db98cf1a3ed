package backup

import (
	"context"
	"errors"
	"fmt"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
)

// shells are looked for in this order in the service's container.
var shells = []string{"/bin/bash", "/usr/bin/bash", "/bin/sh", "/usr/bin/sh"}

// hookCommand is how a hook runs in a container. backup-bot-two (1.x and 2.x; not verified
// against its source) strips a leading `sh -c` or `bash -c` and the quotes around
// the rest, and runs `bash -c 'set -o pipefail;<command>'`, so its recipes' hooks may use bash.
// swarmrun does the same when the container has bash, falls back to `sh -c` without it, and
// on an image with no shell at all (FROM scratch, like the test probe) runs the command's
// words directly, which works for a hook that is a plain command line and refuses one that
// needs a shell (pipes, redirections, variables, ;, &&).
func (r *Runner) hookCommand(ctx context.Context, ctr, hook string) ([]string, string, error) {
	cmd := stripShell(hook)
	for _, sh := range shells {
		_, err := r.engine.ContainerStatPath(ctx, ctr, sh)
		switch {
		case err == nil && strings.HasSuffix(sh, "bash"):
			return []string{sh, "-c", "set -o pipefail;" + cmd}, sh, nil
		case err == nil:
			return []string{sh, "-c", cmd}, sh, nil
		case !cerrdefs.IsNotFound(err):
			return nil, "", fmt.Errorf("look for %s: %w", sh, err)
		}
	}
	words, err := splitWords(cmd)
	if err != nil {
		return nil, "", fmt.Errorf("the container has no shell (%s), and %w", strings.Join(shells, ", "), err)
	}
	return words, "no shell", nil
}

// stripShell drops a leading `sh -c` or `bash -c` and the quotes around what follows, as
// backup-bot-two does before it wraps the hook in its own bash.
func stripShell(hook string) string {
	h := strings.TrimSpace(hook)
	for _, prefix := range []string{"bash -c ", "sh -c ", "/bin/bash -c ", "/bin/sh -c "} {
		if rest, ok := strings.CutPrefix(h, prefix); ok {
			h = strings.TrimSpace(rest)
			if len(h) >= 2 && (h[0] == '"' || h[0] == '\'') && h[len(h)-1] == h[0] {
				h = h[1 : len(h)-1]
			}
			break
		}
	}
	return h
}

// errNeedsShell says a hook uses what only a shell gives.
var errNeedsShell = errors.New("the hook needs a shell")

// splitWords splits a command line into words with single and double quotes, the way a
// shell would for a plain command; anything only a shell could run is refused.
func splitWords(s string) ([]string, error) {
	var (
		words []string
		cur   strings.Builder
		in    bool
		quote rune
	)
	for _, c := range s {
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote == '"' && strings.ContainsRune("$`\\", c):
			return nil, fmt.Errorf("%w: %q uses %q inside double quotes", errNeedsShell, s, c)
		case quote != 0:
			cur.WriteRune(c)
		case c == '\'' || c == '"':
			quote, in = c, true
		case c == ' ' || c == '\t':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		case strings.ContainsRune("|&;<>()$`\\*?[]{}~\n", c):
			return nil, fmt.Errorf("%w: %q uses %q", errNeedsShell, s, c)
		default:
			cur.WriteRune(c)
			in = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("%w: %q has an unclosed quote", errNeedsShell, s)
	}
	if in {
		words = append(words, cur.String())
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("%w: the hook is empty", errNeedsShell)
	}
	return words, nil
}
