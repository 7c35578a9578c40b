// Command gendocs writes the generated parts of the documentation templates, between
// "<!-- NAME:begin ... -->" and "<!-- NAME:end -->" markers, from the code they describe:
//
//   - gpu-matrix in templates/index.md.tmpl: which GPU each cloud sells, in how many GPUs per
//     machine and per cluster node (gpumatrix.go);
//   - timeouts in templates/resources/gpu_instance.md.tmpl and gpu_cluster.md.tmpl: the
//     resources' default timeouts, read from internal/provider (timeouts.go).
//
// `make docs` runs it from the repository root before tfplugindocs, so a change to the catalog,
// a cloud's rules or a default timeout reaches docs/, and a stale docs/ fails `make docs-check`:
//
//	go run ./scripts/gendocs
package main

import (
	"fmt"
	"os"
	"strings"
)

// section is one generated part of a template.
type section struct {
	file, name string
	render     func() (string, error)
}

var sections = []section{
	{"templates/index.md.tmpl", "gpu-matrix", gpuMatrix},
	{"templates/resources/gpu_instance.md.tmpl", "timeouts", timeoutsOf("Instance")},
	{"templates/resources/gpu_cluster.md.tmpl", "timeouts", timeoutsOf("Cluster")},
}

func main() {
	for _, s := range sections {
		if err := s.write(); err != nil {
			fmt.Fprintf(os.Stderr, "gendocs: %s (%s): %v\n", s.file, s.name, err)
			os.Exit(1)
		}
	}
}

// write replaces what lies between the section's markers with its rendering. The begin marker
// is "<!-- NAME:begin" up to the end of its comment, so it can say where the text comes from.
func (s section) write() error {
	text, err := s.render()
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(s.file)
	if err != nil {
		return err
	}
	old := string(raw)
	beginAt := strings.Index(old, "<!-- "+s.name+":begin")
	if beginAt < 0 {
		return fmt.Errorf("no %q marker", "<!-- "+s.name+":begin")
	}
	closeAt := strings.Index(old[beginAt:], "-->")
	if closeAt < 0 {
		return fmt.Errorf("the %s begin marker is not closed", s.name)
	}
	head := old[:beginAt+closeAt+len("-->")]
	endMarker := "<!-- " + s.name + ":end -->"
	_, tail, ok := strings.Cut(old[len(head):], endMarker)
	if !ok {
		return fmt.Errorf("no %q after the begin marker", endMarker)
	}
	out := head + "\n\n" + text + "\n" + endMarker + tail
	if out == old {
		return nil
	}
	return os.WriteFile(s.file, []byte(out), 0o644)
}
