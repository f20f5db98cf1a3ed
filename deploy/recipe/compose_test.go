package recipe

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestComposeFiles(t *testing.T) {
	tests := []struct {
		name    string
		files   []string
		env     map[string]string
		want    []string
		wantErr string
	}{
		{name: "default compose.yml", files: []string{"compose.yml", "docker-compose.yml"}, want: []string{"compose.yml"}},
		{name: "legacy docker-compose.yml", files: []string{"docker-compose.yml"}, want: []string{"docker-compose.yml"}},
		{name: "neither", files: []string{"compose.smtp.yml"}, wantErr: "neither compose.yml nor docker-compose.yml"},
		{
			name:  "COMPOSE_FILE picks and orders",
			files: []string{"compose.yml", "compose.smtp.yml", "compose.sso.yml"},
			env:   map[string]string{"COMPOSE_FILE": "compose.yml:compose.sso.yml:compose.smtp.yml"},
			want:  []string{"compose.yml", "compose.sso.yml", "compose.smtp.yml"},
		},
		{
			name:  "COMPOSE_FILE with blanks, repeats and ./",
			files: []string{"compose.yml", "compose.smtp.yml"},
			env:   map[string]string{"COMPOSE_FILE": " compose.yml :: ./compose.smtp.yml:compose.yml"},
			want:  []string{"compose.yml", "compose.smtp.yml"},
		},
		{
			name:  "empty COMPOSE_FILE means the default",
			files: []string{"compose.yml"},
			env:   map[string]string{"COMPOSE_FILE": ""},
			want:  []string{"compose.yml"},
		},
		{
			name:    "missing file",
			files:   []string{"compose.yml"},
			env:     map[string]string{"COMPOSE_FILE": "compose.yml:compose.nope.yml"},
			wantErr: `"compose.nope.yml"`,
		},
		{
			name:    "outside the recipe",
			files:   []string{"compose.yml"},
			env:     map[string]string{"COMPOSE_FILE": "compose.yml:../other/compose.yml"},
			wantErr: "outside the recipe",
		},
		{
			name:    "absolute path",
			files:   []string{"compose.yml"},
			env:     map[string]string{"COMPOSE_FILE": "/etc/compose.yml"},
			wantErr: "outside the recipe",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, f), []byte("services: {}\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := ComposeFiles(tt.env, dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ComposeFiles() = %v, %v; want error %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("ComposeFiles() = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestComposeFilesMissingIsNotExist(t *testing.T) {
	_, err := ComposeFiles(map[string]string{"COMPOSE_FILE": "x.yml"}, t.TempDir())
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ComposeFiles(missing) = %v, want fs.ErrNotExist", err)
	}
}

// TestComposeFilesRefusesSymlinksOutside: a compose file, named by default or by
// COMPOSE_FILE, that is a symlink leading outside the checkout is refused, not skipped.
func TestComposeFilesRefusesSymlinksOutside(t *testing.T) {
	for _, tt := range []struct {
		name  string
		env   map[string]string
		links [][2]string
	}{
		{"default file", nil, [][2]string{{"compose.yml", "../outside.yml"}}},
		{"legacy file", nil, [][2]string{{"docker-compose.yml", "/etc/passwd"}}},
		{"COMPOSE_FILE chain", map[string]string{"COMPOSE_FILE": "canary.yml"},
			[][2]string{{"a0", "."}, {"b1", "a0/.."}, {"canary.yml", "b1/outside.yml"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := linkedCheckout(t, map[string]string{"outside.yml": "services: {}\n"}, tt.links)
			got, err := ComposeFiles(tt.env, dir)
			if !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "outside the recipe checkout (through a symlink)") {
				t.Errorf("ComposeFiles = %v, %v; want an ErrUnsafe refusal", got, err)
			}
		})
	}
	_, err := ComposeFiles(map[string]string{"COMPOSE_FILE": "compose.yml:/etc/shadow"}, t.TempDir())
	if !errors.Is(err, ErrUnsafe) || err.Error() != `compose files: COMPOSE_FILE: "/etc/shadow" is outside the recipe checkout` {
		t.Errorf("absolute COMPOSE_FILE entry: %v", err)
	}
}
