package objcmd

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/swarmrun/swarmrun/api/client"
	"github.com/swarmrun/swarmrun/api/server"
	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/cli"
)

// Options wire the commands.
type Options struct {
	// Now is the clock for ages and wait deadlines. Default time.Now.
	Now func() time.Time
	// Runners run beside the API in serve, over the same store (the controllers). serve stops
	// when any of them fails.
	Runners []Runner
	// ServeFlags, when set, registers the runners' flags on serve's flag set.
	ServeFlags func(*pflag.FlagSet)
	// Hooks, when set, returns the handler of the paths under /hooks/ (the forges' webhook
	// deliveries), which serve mounts on every listener beside the API. Those requests need
	// no bearer token: the handler authenticates them itself.
	Hooks func(s Served) (http.Handler, error)
}

// Commands returns serve, apply, get, describe, delete, wait and events.
func Commands(g *cli.Globals, o Options) []*cobra.Command {
	if o.Now == nil {
		o.Now = time.Now
	}
	return []*cobra.Command{
		newServeCommand(g, o),
		newApplyCommand(g),
		newGetCommand(g, o),
		newDescribeCommand(g, o),
		newDeleteCommand(g),
		newWaitCommand(g, o),
		newEventsCommand(g, o),
	}
}

// StorePath is the store's file under the data dir.
func StorePath(g *cli.Globals) string { return filepath.Join(g.DataDir, "swarmrun.db") }

// connect returns a client of --server, or of the socket under --data-dir.
func connect(g *cli.Globals) (*client.Client, error) {
	addr := g.Server
	if addr == "" {
		addr = g.SocketPath()
	}
	c, err := client.NewWithOptions(addr, client.Options{Token: g.Token, CAFile: g.CAFile})
	if err != nil {
		return nil, cli.Invalid(err)
	}
	return c, nil
}

// kindOf resolves what a user types (testruns, testrun, tr, recipes, recipe, rc, optionally
// qualified by the group) to a kind.
func kindOf(resource string) (string, error) {
	kind, err := v1alpha1.KindFor(strings.TrimSuffix(strings.ToLower(resource), "."+v1alpha1.Group))
	if err != nil {
		return "", cli.Invalid(err)
	}
	return kind, nil
}

// objectName is the kubectl form of an object's name: testrun.swarmrun.dev/NAME.
func objectName(kind, name string) string {
	return strings.ToLower(kind) + "." + v1alpha1.Group + "/" + name
}

// apiError gives an API error its exit code: 1 for not found, 2 for everything else. A server
// certificate the client does not trust gets a hint.
func apiError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, store.ErrNotFound) {
		return cli.Failed(err)
	}
	var untrusted *tls.CertificateVerificationError
	if errors.As(err, &untrusted) {
		return cli.Invalid(fmt.Errorf("%w\n(the API server's certificate is not trusted: give the CA that signed it with --ca-file or SWARMRUN_CA_FILE)", err))
	}
	var se *client.StatusError
	if errors.As(err, &se) && se.Status.Reason == server.ReasonInvalid && se.Status.Details != nil {
		return cli.Invalid(invalidError(se))
	}
	return cli.Invalid(err)
}

// invalidError lists every field error, one a line.
func invalidError(se *client.StatusError) error {
	d := se.Status.Details
	var b strings.Builder
	fmt.Fprintf(&b, "%s %q is invalid:", d.Kind, d.Name)
	for _, c := range d.Causes {
		b.WriteString("\n  ")
		if c.Field != "" {
			b.WriteString(c.Field + ": ")
		}
		b.WriteString(c.Message)
	}
	return errors.New(b.String())
}
