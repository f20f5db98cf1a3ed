package render

import (
	"fmt"
	"maps"
	"slices"

	"github.com/docker/cli/cli/compose/convert"
	"github.com/docker/docker/api/types/swarm"
)

// ProvideSecrets turns external secrets of the stack into secrets the stack creates itself:
// each name of values (a full secret name, as in ExternalSecrets) moves from ExternalSecrets to
// Secrets with its value as data, the stack's namespace label and labels (ownership labels).
// The apply step then creates them with the rest of the stack, and removing the stack removes
// them, which is what a run wants for the external secrets a recipe expects an operator to
// create.
//
// It fails, changing nothing, when a name is not an external secret of the stack. Digest is
// left as rendered: it identifies what the recipe declared, and must not be derived from
// values a run generated.
func (s *Stack) ProvideSecrets(values map[string][]byte, labels map[string]string) error {
	for _, name := range slices.Sorted(maps.Keys(values)) {
		if !slices.Contains(s.ExternalSecrets, name) {
			return fmt.Errorf("provide secret %s: not an external secret of stack %s", name, s.Name)
		}
	}
	if len(values) == 0 {
		return nil
	}
	if s.Secrets == nil {
		s.Secrets = map[string]swarm.SecretSpec{}
	}
	for name, data := range values {
		l := maps.Clone(labels)
		if l == nil {
			l = map[string]string{}
		}
		l[convert.LabelNamespace] = s.Name
		s.Secrets[name] = swarm.SecretSpec{
			Annotations: swarm.Annotations{Name: name, Labels: l},
			Data:        slices.Clone(data),
		}
	}
	s.ExternalSecrets = slices.DeleteFunc(slices.Clone(s.ExternalSecrets), func(n string) bool {
		_, provided := values[n]
		return provided
	})
	s.markGenerated(values)
	return nil
}
