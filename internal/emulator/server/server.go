// Package server puts every emulated cloud behind one http.Handler, each under its real path
// space (Lambda /api/, RunPod /v2, CoreWeave /v1beta1 and each CKS cluster's Kubernetes API at
// /k8s/<cluster id>), with a combined admin API:
//
//	GET  /_emulator/stats           {"lambda": {"GET /api/v1/instances": 12, ...}, "runpod": {...}}
//	GET  /_emulator/stats?by=status {"lambda": {"GET /api/v1/instances": {"200": 9, "429": 3}, ...}, ...}
//	GET  /_emulator/stats/429       {"lambda": {"GET /api/v1/instances": 3}, ...}: the calls answered 429 (counted in stats too)
//	     /_emulator/lambda/...      the Lambda emulator's admin API (faults, capacity, state)
//	     /_emulator/runpod/...      the RunPod emulator's admin API
//	     /_emulator/coreweave/...   the CoreWeave emulator's admin API
//
// Used by cmd/neocloud-emulator and by the provider's acceptance tests.
package server

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/neocloud/terraform-provider-neocloud/internal/emulator/coreweave"
	"github.com/neocloud/terraform-provider-neocloud/internal/emulator/emucore"
	"github.com/neocloud/terraform-provider-neocloud/internal/emulator/lambda"
	"github.com/neocloud/terraform-provider-neocloud/internal/emulator/runpod"
)

// Options configure the emulated clouds.
type Options struct {
	TimeScale float64
	// CloudTimeScale overrides TimeScale for one cloud ("coreweave": CKS clusters take 45
	// minutes for real, so tests run that cloud's clock faster than the others').
	CloudTimeScale map[string]float64
	LambdaKey      string
	RunPodKey      string
	CoreWeaveToken string
}

func (o Options) scale(cloud string) float64 {
	if f, ok := o.CloudTimeScale[cloud]; ok {
		return f
	}
	return o.TimeScale
}

// Server is the combined emulator.
type Server struct {
	Lambda    *lambda.Emulator
	RunPod    *runpod.Emulator
	CoreWeave *coreweave.Emulator
	mux       *http.ServeMux
}

// New builds the emulated clouds and their routes.
func New(opts Options) *Server {
	s := &Server{
		Lambda:    lambda.New(lambda.Options{APIKey: opts.LambdaKey, TimeScale: opts.scale("lambda")}),
		RunPod:    runpod.New(runpod.Options{APIKey: opts.RunPodKey, TimeScale: opts.scale("runpod")}),
		CoreWeave: coreweave.New(coreweave.Options{Token: opts.CoreWeaveToken, TimeScale: opts.scale("coreweave")}),
		mux:       http.NewServeMux(),
	}
	s.mux.Handle("/v1beta1/", s.CoreWeave)
	for _, prefix := range coreweave.RPCPathPrefixes() {
		s.mux.Handle(prefix, s.CoreWeave)
	}
	s.mux.Handle("/k8s/", s.CoreWeave)
	s.mux.Handle("/_emulator/coreweave/", http.StripPrefix("/_emulator/coreweave", s.CoreWeave.AdminHandler()))
	s.mux.Handle("/v2/", s.RunPod)
	s.mux.Handle("/_emulator/runpod/", http.StripPrefix("/_emulator/runpod", s.RunPod.AdminHandler()))
	// All of /api/, not only /api/v1/: a path Lambda does not have is answered by the Lambda
	// emulator in Lambda's JSON error shape, as Lambda's own host would, not by this mux.
	s.mux.Handle("/api/", s.Lambda)
	s.mux.Handle("/_emulator/lambda/", http.StripPrefix("/_emulator/lambda", s.Lambda.AdminHandler()))
	s.mux.HandleFunc("GET /_emulator/stats", func(w http.ResponseWriter, r *http.Request) {
		byStatus, err := emucore.StatsByStatus(r)
		switch {
		case err != nil:
			http.Error(w, err.Error(), http.StatusBadRequest)
		case byStatus:
			emucore.WriteJSON(w, http.StatusOK, s.StatsByStatus())
		default:
			emucore.WriteJSON(w, http.StatusOK, s.Stats())
		}
	})
	s.mux.HandleFunc("GET /_emulator/stats/429", func(w http.ResponseWriter, _ *http.Request) {
		emucore.WriteJSON(w, http.StatusOK, map[string]map[string]int{
			"lambda":    s.Lambda.Core.Stats.Refused(),
			"runpod":    s.RunPod.Core.Stats.Refused(),
			"coreweave": s.CoreWeave.Core.Stats.Refused(),
		})
	})
	return s
}

// Stats returns the call counters of every cloud, keyed by cloud then route template.
func (s *Server) Stats() map[string]map[string]int {
	return map[string]map[string]int{
		"lambda":    s.Lambda.Core.Stats.Snapshot(),
		"runpod":    s.RunPod.Core.Stats.Snapshot(),
		"coreweave": s.CoreWeave.Core.Stats.Snapshot(),
	}
}

// StatsByStatus returns the answers of every cloud, keyed by cloud, route template and HTTP
// status ("200", "429", or "dropped" for a connection closed without an answer).
func (s *Server) StatsByStatus() map[string]map[string]map[string]int {
	return map[string]map[string]map[string]int{
		"lambda":    s.Lambda.Core.Stats.ByStatus(),
		"runpod":    s.RunPod.Core.Stats.ByStatus(),
		"coreweave": s.CoreWeave.Core.Stats.ByStatus(),
	}
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// stateFormat versions the combined state file; each cloud's part carries its own format too.
const stateFormat = 1

// stateFile is what ExportState writes: one part per cloud, each in that cloud's own format.
type stateFile struct {
	Format    int             `json:"format"`
	Lambda    json.RawMessage `json:"lambda"`
	RunPod    json.RawMessage `json:"runpod"`
	CoreWeave json.RawMessage `json:"coreweave"`
}

// ExportState returns the state of every cloud (machines, clusters, keys, volumes, capacity,
// quotas) as one JSON document for ImportState. Call counters, faults and rate-limit buckets are
// not saved. The same state always exports to the same bytes.
func (s *Server) ExportState() ([]byte, error) {
	var f stateFile
	var err error
	f.Format = stateFormat
	if f.Lambda, err = s.Lambda.ExportState(); err != nil {
		return nil, err
	}
	if f.RunPod, err = s.RunPod.ExportState(); err != nil {
		return nil, err
	}
	if f.CoreWeave, err = s.CoreWeave.ExportState(); err != nil {
		return nil, err
	}
	return json.MarshalIndent(f, "", " ")
}

// ImportState loads a document ExportState wrote. A cloud missing from it keeps its state. It
// checks every part before loading any, so a bad document changes nothing.
func (s *Server) ImportState(data []byte) error {
	var f stateFile
	if err := json.Unmarshal(data, &f); err != nil {
		return fmt.Errorf("emulator state: %w", err)
	}
	if f.Format != stateFormat {
		return fmt.Errorf("emulator state: format %d, this emulator reads format %d", f.Format, stateFormat)
	}
	parts := []struct {
		data json.RawMessage
		load func([]byte) error
		// check loads the part into a throwaway emulator first.
		check func([]byte) error
	}{
		{f.Lambda, s.Lambda.ImportState, lambda.New(lambda.Options{}).ImportState},
		{f.RunPod, s.RunPod.ImportState, runpod.New(runpod.Options{}).ImportState},
		{f.CoreWeave, s.CoreWeave.ImportState, coreweave.New(coreweave.Options{}).ImportState},
	}
	for _, p := range parts {
		if len(p.data) > 0 && string(p.data) != "null" {
			if err := p.check(p.data); err != nil {
				return err
			}
		}
	}
	for _, p := range parts {
		if len(p.data) > 0 && string(p.data) != "null" {
			if err := p.load(p.data); err != nil {
				return err
			}
		}
	}
	return nil
}
