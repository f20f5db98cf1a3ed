package objcmd

import (
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/internal/mask"
)

// masked returns a copy of obj whose env values under secret-shaped keys (DB_PASSWORD,
// API_TOKEN, ...) are masked, as `swarmrun run -o json` prints them: a TestRun's spec.env; a
// Recipe's spec.env, spec.previous.env and its job checks' env; a Repository's
// spec.template.env. Printed objects are read by
// people and pasted into issues; the store keeps the values.
func masked(obj v1alpha1.Object) v1alpha1.Object {
	m := mask.New()
	out := v1alpha1.DeepCopyObject(obj)
	switch o := out.(type) {
	case *v1alpha1.TestRun:
		o.Spec.Env = m.Env(o.Spec.Env)
	case *v1alpha1.Repository:
		o.Spec.Template.Env = m.Env(o.Spec.Template.Env)
	case *v1alpha1.Recipe:
		o.Spec.Env = m.Env(o.Spec.Env)
		if o.Spec.Previous != nil {
			o.Spec.Previous.Env = m.Env(o.Spec.Previous.Env)
		}
		ch := &o.Spec.Checks
		for _, tier := range [][]v1alpha1.Check{ch.Install, ch.Upgrade.Before, ch.Upgrade.After, ch.Backup, ch.Restore, ch.Custom} {
			for i := range tier {
				if j := tier[i].Job; j != nil {
					j.Env = m.Env(j.Env)
				}
			}
		}
	}
	return out
}
