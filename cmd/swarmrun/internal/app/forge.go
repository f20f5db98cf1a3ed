package app

import (
	"net/http"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/cli"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/objcmd"
	"github.com/swarmrun/swarmrun/trigger"
)

// ForgeOptions configure serve's pull request trigger: the Repository controller and the
// webhook endpoint.
type ForgeOptions struct {
	// SecretsDir holds the forge tokens and webhook secrets, one directory per forge host;
	// empty means <data-dir>/forge.
	SecretsDir string
	// TargetURL links each commit status to the run: {testrun} is replaced by its name.
	TargetURL string
}

// BindForge registers serve's pull request trigger flags on f, filling o.
func BindForge(f *pflag.FlagSet, o *ForgeOptions) {
	f.StringVar(&o.SecretsDir, "forge-secrets-dir", "", "directory of forge tokens and webhook secrets, one subdirectory per forge host (HOST or HOST:PORT); files mode 0600 (default <data-dir>/forge)")
	f.StringVar(&o.TargetURL, "forge-target-url", "", "link of the commit statuses posted to pull requests; {testrun} is replaced by the run's name (default: no link)")
}

// Dir is the forge secrets directory under dataDir when no other was given.
func (o *ForgeOptions) Dir(dataDir string) string {
	if o.SecretsDir != "" {
		return o.SecretsDir
	}
	return filepath.Join(dataDir, "forge")
}

// Hooks returns serve's webhook endpoint over the served store (see trigger.Webhook); o is
// read when serve starts, after its flags are parsed.
func Hooks(g *cli.Globals, o *ForgeOptions) func(s objcmd.Served) (http.Handler, error) {
	return func(s objcmd.Served) (http.Handler, error) {
		wo := trigger.WebhookOptions{Objects: s.Store, SecretsDir: o.Dir(g.DataDir)}
		if s.Metrics != nil {
			wo.Observer = s.Metrics
		}
		return trigger.Webhook(wo)
	}
}
