package recipe

import (
	"strings"
	"testing"
)

func FuzzParseDotenv(f *testing.F) {
	for _, seed := range []string{
		"A=1\n", "export A='x # y' # length=3\n", `B="a\"b\$c ${A:-d}"`, "C=#fff\nD= # c\n",
		"E=\"unterminated\n", "=x\n", "F=$G${H}\\$I\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		env, err := ParseDotenv(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, v := range env.Vars {
			if !validName(v.Name) {
				t.Fatalf("parsed invalid name %q", v.Name)
			}
		}
		// Resolving never panics and defines every parsed name.
		out, err := env.Resolve(map[string]string{"DOMAIN": "d"})
		if err != nil {
			if !strings.Contains(err.Error(), "required variable") {
				t.Fatalf("Resolve: %v, want only required-variable errors", err)
			}
			return
		}
		for _, v := range env.Vars {
			if _, ok := out[v.Name]; !ok {
				t.Fatalf("%s lost in Resolve", v.Name)
			}
		}
	})
}

func FuzzParseVersion(f *testing.F) {
	for _, seed := range []string{"0.8.1+3.5.0", "1.0.0-rc.1", "1.0.0-alpha.beta+x", "01.0.0", "1.2"} {
		f.Add(seed, "0.7.0+3.3.1")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		va, errA := ParseVersion(a)
		vb, errB := ParseVersion(b)
		if errA == nil && va.Compare(va) != 0 {
			t.Fatalf("%q does not equal itself", a)
		}
		if errA == nil && errB == nil && va.Compare(vb) != -vb.Compare(va) {
			t.Fatalf("Compare(%q, %q) is not antisymmetric", a, b)
		}
		if CompareVersions(a, b) != -CompareVersions(b, a) {
			t.Fatalf("CompareVersions(%q, %q) is not antisymmetric", a, b)
		}
	})
}
