package spec

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

func TestReadGood(t *testing.T) {
	tests := []struct {
		file  string
		check func(t *testing.T, docs []Document)
	}{
		{"testdata/good/01-minimal-testrun.yaml", func(t *testing.T, docs []Document) {
			tr := only[*v1alpha1.TestRun](t, docs)
			want := v1alpha1.TestRunSpec{
				Recipe:   "demo",
				Stages:   v1alpha1.Stages(),
				Teardown: v1alpha1.TeardownAlways,
				Timeout:  &v1alpha1.Duration{Duration: v1alpha1.DefaultRunTimeout},
			}
			if !reflect.DeepEqual(tr.Spec, want) {
				t.Errorf("spec = %+v, want the defaults %+v", tr.Spec, want)
			}
			if tr.APIVersion != v1alpha1.APIVersion || tr.Kind != v1alpha1.KindTestRun {
				t.Errorf("type meta = %+v", tr.TypeMeta)
			}
		}},
		{"testdata/good/02-recipe-and-testrun.yaml", func(t *testing.T, docs []Document) {
			if len(docs) != 2 {
				t.Fatalf("read %d documents, want 2", len(docs))
			}
			// The comment before the first --- belongs to the first document.
			if docs[0].Index != 1 || docs[0].Line != 3 || docs[1].Index != 3 || docs[1].Line != 21 {
				t.Errorf("positions = (%d, line %d), (%d, line %d); want (1, line 3), (3, line 21)",
					docs[0].Index, docs[0].Line, docs[1].Index, docs[1].Line)
			}
			r := docs[0].Object.(*v1alpha1.Recipe)
			wantEnv := map[string]string{"PORT": "8080", "ENABLED": "true", "RELEASE": "0x1F"}
			if !reflect.DeepEqual(r.Spec.Env, wantEnv) {
				t.Errorf("env = %v, want the text as written %v", r.Spec.Env, wantEnv)
			}
			if r.Spec.DeployTimeout() != v1alpha1.DefaultDeployTimeout || !r.Spec.Warm {
				t.Errorf("recipe spec = %+v", r.Spec)
			}
			tr := docs[1].Object.(*v1alpha1.TestRun)
			if tr.Spec.Head != "12345678" || tr.Spec.Timeout.Duration != 90*time.Minute || tr.Spec.Teardown != v1alpha1.TeardownNever {
				t.Errorf("testrun spec = %+v", tr.Spec)
			}
		}},
		{"testdata/good/03-recipe.json", func(t *testing.T, docs []Document) {
			r := only[*v1alpha1.Recipe](t, docs)
			want := `{"services":{"app":{"deploy":{"replicas":2,"resources":{"limits":{"cpus":0.5}}}}}}`
			if len(r.Spec.Overlays) != 1 || string(r.Spec.Overlays[0]) != want {
				t.Errorf("overlays = %s, want [%s]", r.Spec.Overlays, want)
			}
		}},
		{"testdata/good/04-anchors-and-merge-keys.yaml", func(t *testing.T, docs []Document) {
			r := only[*v1alpha1.Recipe](t, docs)
			probe := v1alpha1.HTTPCheck{Service: "app", Port: 8080, ExpectStatus: 200}
			health := probe
			health.Path = "/healthz"
			got := []v1alpha1.HTTPCheck{*r.Spec.Checks.Install[0].HTTP, *r.Spec.Checks.Install[1].HTTP, *r.Spec.Checks.Upgrade.After[0].HTTP}
			want := []v1alpha1.HTTPCheck{probe, health, probe}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("http checks = %+v, want %+v", got, want)
			}
		}},
		{"testdata/good/05-get-output-round-trip.yaml", func(t *testing.T, docs []Document) {
			tr := only[*v1alpha1.TestRun](t, docs)
			if !reflect.DeepEqual(tr.Status, v1alpha1.TestRunStatus{}) {
				t.Errorf("status = %+v, want it dropped", tr.Status)
			}
			if tr.ResourceVersion != "41" || tr.Generation != 2 || !tr.HasFinalizer(v1alpha1.FinalizerTeardown) ||
				!tr.CreationTimestamp.Equal(time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)) {
				t.Errorf("metadata = %+v", tr.ObjectMeta)
			}
		}},
		{"testdata/good/06-testrun-list.yaml", func(t *testing.T, docs []Document) {
			var names []string
			for _, d := range docs {
				tr := d.Object.(*v1alpha1.TestRun)
				names = append(names, fmt.Sprintf("%s:%d:%d:%s", tr.Name, d.Index, d.Line, tr.Kind))
				if tr.Status.Level != 0 {
					t.Errorf("%s: status not dropped", tr.Name)
				}
			}
			if want := []string{"demo-pr1:1:7:TestRun", "demo-pr2:1:16:TestRun"}; !reflect.DeepEqual(names, want) {
				t.Errorf("items = %v, want %v", names, want)
			}
		}},
		{"../examples/recipe.yaml", func(t *testing.T, docs []Document) {
			r := only[*v1alpha1.Recipe](t, docs)
			if len(r.Spec.Checks.Install) == 0 || len(r.Spec.Checks.Upgrade.Before) == 0 || len(r.Spec.Checks.Upgrade.After) == 0 {
				t.Errorf("the example has no install or upgrade checks: %+v", r.Spec.Checks)
			}
		}},
		{"../examples/testrun.yaml", func(t *testing.T, docs []Document) {
			tr := only[*v1alpha1.TestRun](t, docs)
			if tr.Spec.Recipe != "demo" {
				t.Errorf("the example runs recipe %q, not the example recipe", tr.Spec.Recipe)
			}
		}},
		{"../examples/repository.yaml", func(t *testing.T, docs []Document) {
			r := only[*v1alpha1.Repository](t, docs)
			if r.Spec.Recipe != "demo" || len(r.Spec.Trigger.Teams) == 0 || r.Spec.Poll() == 0 {
				t.Errorf("the example maps recipe %q, with teams %v and poll %s: want demo, a team and polling",
					r.Spec.Recipe, r.Spec.Trigger.Teams, r.Spec.Poll())
			}
		}},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			docs, err := ReadFile(tt.file)
			if err != nil {
				t.Fatalf("ReadFile: %v", err)
			}
			for _, d := range docs {
				if d.Source != tt.file {
					t.Errorf("source = %q, want %q", d.Source, tt.file)
				}
			}
			tt.check(t, docs)
		})
	}
}

// only returns the single object of docs as a T.
func only[T v1alpha1.Object](t *testing.T, docs []Document) T {
	t.Helper()
	if len(docs) != 1 {
		t.Fatalf("read %d documents, want 1", len(docs))
	}
	obj, ok := docs[0].Object.(T)
	if !ok {
		t.Fatalf("object is a %T", docs[0].Object)
	}
	return obj
}

func TestReadDir(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "b.yaml", "apiVersion: swarmrun.dev/v1alpha1\nkind: TestRun\nmetadata: {name: b}\nspec: {recipe: demo}\n")
	write(t, dir, "a.yml", "apiVersion: swarmrun.dev/v1alpha1\nkind: TestRun\nmetadata: {name: a}\nspec: {recipe: demo}\n")
	write(t, dir, "notes.txt", "not a spec")
	write(t, dir, "c.json", "not read either")
	if err := os.Mkdir(filepath.Join(dir, "sub.yaml"), 0o755); err != nil {
		t.Fatal(err)
	}
	docs, err := ReadDir(dir)
	if err != nil {
		t.Fatalf("ReadDir: %v", err)
	}
	var names []string
	for _, d := range docs {
		names = append(names, filepath.Base(d.Source)+":"+d.Object.GetObjectMeta().Name)
	}
	if want := []string{"a.yml:a", "b.yaml:b"}; !reflect.DeepEqual(names, want) {
		t.Errorf("read %v, want %v in name order", names, want)
	}

	// A problem in one file fails the whole set, and every file's problems are reported.
	write(t, dir, "c.yaml", "apiVersion: swarmrun.dev/v1alpha1\nkind: TestRun\nmetadata: {name: c}\nspec: {recipe: demo, stages: [x]}\n")
	write(t, dir, "d.yaml", "# again\napiVersion: swarmrun.dev/v1alpha1\nkind: TestRun\nmetadata: {name: a}\nspec: {recipe: other}\n")
	docs, err = ReadDir(dir)
	var perr *Error
	if !errors.As(err, &perr) || docs != nil {
		t.Fatalf("ReadDir = %d documents, %v; want none and an *Error", len(docs), err)
	}
	want := filepath.Join(dir, "c.yaml") + `:4: spec.stages[0]: unknown stage "x" (want one of install, upgrade, backup, restore, custom)` + "\n" +
		filepath.Join(dir, "d.yaml") + ":2: metadata.name: testrun/a is defined twice (first in " + filepath.Join(dir, "a.yml") + ":1)"
	if err.Error() != want {
		t.Errorf("error:\n%s\nwant:\n%s", err, want)
	}
}

func TestReadDirWithoutSpecs(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "README", "nothing here")
	if _, err := ReadDir(dir); err == nil || !strings.Contains(err.Error(), "no *.yaml or *.yml files") {
		t.Errorf("ReadDir of a directory without specs: %v", err)
	}
}

func TestReadPath(t *testing.T) {
	dir := t.TempDir()
	file := write(t, dir, "tr.yaml", "apiVersion: swarmrun.dev/v1alpha1\nkind: TestRun\nmetadata: {name: a}\nspec: {recipe: demo}\n")
	tests := []struct {
		path    string
		want    int
		wantErr string
	}{
		{file, 1, ""},
		{dir, 1, ""},
		{filepath.Join(dir, "missing.yaml"), 0, "no such file or directory"},
	}
	for _, tt := range tests {
		docs, err := ReadPath(tt.path)
		if tt.wantErr != "" {
			var perr *Error
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || errors.As(err, &perr) {
				t.Errorf("ReadPath(%s) error = %v, want a read error with %q", tt.path, err, tt.wantErr)
			}
			continue
		}
		if err != nil || len(docs) != tt.want {
			t.Errorf("ReadPath(%s) = %d documents, %v; want %d", tt.path, len(docs), err, tt.want)
		}
	}
}

func TestReadEmpty(t *testing.T) {
	for _, in := range []string{"", "# only a comment\n", "---\n---\n", "--- ~\n"} {
		docs, err := Read("empty.yaml", strings.NewReader(in))
		if err != nil || len(docs) != 0 {
			t.Errorf("Read(%q) = %d documents, %v; want none and no error", in, len(docs), err)
		}
	}
}

func TestReadTooLarge(t *testing.T) {
	big := strings.Repeat("#", MaxSize+1)
	_, err := Read("big.yaml", strings.NewReader(big))
	var perr *Error
	if !errors.As(err, &perr) || err.Error() != "big.yaml: larger than 8 MiB" {
		t.Errorf("Read of %d bytes: %v", len(big), err)
	}
}

func TestReadError(t *testing.T) {
	_, err := Read("broken", iotestErrReader{})
	var perr *Error
	if err == nil || errors.As(err, &perr) || !strings.Contains(err.Error(), "broken") {
		t.Errorf("Read of a failing reader: %v, want a read error naming the source", err)
	}
}

type iotestErrReader struct{}

func (iotestErrReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

// TestReadObjectsAreJSONRoundTrips guards the API contract: what the reader returns encodes
// to JSON that decodes to the same object, as the store and the server will do with it.
func TestReadObjectsAreJSONRoundTrips(t *testing.T) {
	for _, file := range []string{"../examples/recipe.yaml", "../examples/testrun.yaml", "../examples/repository.yaml", "testdata/good/02-recipe-and-testrun.yaml"} {
		docs, err := ReadFile(file)
		if err != nil {
			t.Fatalf("ReadFile(%s): %v", file, err)
		}
		for _, d := range docs {
			raw, err := json.Marshal(d.Object)
			if err != nil {
				t.Fatal(err)
			}
			back, err := v1alpha1.New(d.Object.GetTypeMeta().Kind)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(raw, back); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, d.Object) {
				t.Errorf("%s: JSON round trip changed the object:\n%+v\n%+v", file, back, d.Object)
			}
			if ps := Validate(back); len(ps) != 0 {
				t.Errorf("%s: the decoded object is not valid: %v", file, ps)
			}
		}
	}
}

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
