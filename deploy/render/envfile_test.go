package render

import (
	"slices"
	"strings"
	"testing"
)

func TestRenderEnvFile(t *testing.T) {
	t.Setenv("SWARMRUN_ENVFILE_LEAK", "from-process")
	tests := []struct {
		name    string
		envFile string
		service string // the service's own environment, as YAML
		env     map[string]string
		wantEnv []string
	}{
		{
			name:    "values as written, not interpolated",
			envFile: "A=1\nB=$HOME\nC=${X:-y}\n",
			wantEnv: []string{"A=1", "B=$HOME", "C=${X:-y}"},
		},
		{
			name:    "valueless line from opts.Env only",
			envFile: "SWARMRUN_ENVFILE_LEAK\nGIVEN\n",
			env:     map[string]string{"GIVEN": "yes"},
			wantEnv: []string{"GIVEN=yes"},
		},
		{
			name:    "empty value filled from opts.Env as docker does",
			envFile: "GIVEN=\n",
			env:     map[string]string{"GIVEN": "yes"},
			wantEnv: []string{"GIVEN=yes"},
		},
		{
			name:    "service list wins over env file",
			envFile: "A=file\nB=file\n",
			service: "[A=own, C=own]",
			wantEnv: []string{"A=own", "B=file", "C=own"},
		},
		{
			name:    "service mapping wins over env file",
			envFile: "A=file\nB=file\n",
			service: `{A: own, D: "${D:-dflt}"}`,
			wantEnv: []string{"A=own", "B=file", "D=dflt"},
		},
		{
			name:    "later lines win",
			envFile: "A=1\nA=2\n",
			wantEnv: []string{"A=2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			compose := "version: \"3.8\"\nservices:\n  app:\n    image: swarmrun-probe:1\n    env_file: app.env\n"
			if tt.service != "" {
				compose += "    environment: " + tt.service + "\n"
			}
			st := renderString(t, compose, map[string]string{"app.env": tt.envFile}, tt.env)
			got := st.Services["test_app"].TaskTemplate.ContainerSpec.Env
			if !slices.Equal(got, tt.wantEnv) {
				t.Errorf("env = %q, want %q", got, tt.wantEnv)
			}
		})
	}
}

func TestRenderEnvFileErrorsHideContent(t *testing.T) {
	const secret = "hunter2-do-not-print"
	tests := []struct {
		name    string
		envFile string
		want    string
	}{
		{"no variable name", "=" + secret + "\n", "compose.yml:5: env file app.env: a line has no variable name"},
		{"invalid utf8", "A=" + secret + "\xff\n", "compose.yml:5: env file app.env: invalid utf8 bytes at line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			compose := "version: \"3.8\"\nservices:\n  app:\n    image: swarmrun-probe:1\n    env_file: [app.env]\n"
			dir := writeFiles(t, map[string]string{"compose.yml": compose, "app.env": tt.envFile})
			_, err := Render(t.Context(), Options{Stack: testStack, Dir: dir, Files: []string{"compose.yml"}})
			asError(t, err)
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q shows the env file's content", err)
			}
			if err.Error() != tt.want {
				t.Errorf("error = %q, want %q", err, tt.want)
			}
		})
	}
}
