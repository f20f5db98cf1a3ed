package render

import "strings"

// DefaultComposeFile is the file a recipe deploys when COMPOSE_FILE is empty.
const DefaultComposeFile = "compose.yml"

// ComposeFiles splits a COMPOSE_FILE value into the compose files to merge, in order: the
// value is colon-separated, blanks around names and empty entries are dropped, and an
// empty value means DefaultComposeFile.
//
// ComposeFiles does not look at the disk: falling back to docker-compose.yml when a
// checkout has no compose.yml is the caller's job.
func ComposeFiles(composeFileEnv string) []string {
	var files []string
	for name := range strings.SplitSeq(composeFileEnv, ":") {
		if name = strings.TrimSpace(name); name != "" {
			files = append(files, name)
		}
	}
	if len(files) == 0 {
		return []string{DefaultComposeFile}
	}
	return files
}
