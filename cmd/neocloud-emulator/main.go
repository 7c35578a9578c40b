// Command neocloud-emulator serves the emulated clouds on one local port, each under its real
// path space (Lambda at /api/v1, RunPod at /v2, CoreWeave at /v1beta1 and /k8s), with the admin
// API at /_emulator. It is how the quickstart runs without an account, how people poke at the
// provider's behaviour under faults, and how a CI job tests Terraform modules without a cloud.
// With -state it keeps its state across restarts. Run it with -help for the flags, the admin API
// and the keys it accepts.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/emulator/coreweave"
	"github.com/neocloud/terraform-provider-neocloud/internal/emulator/lambda"
	"github.com/neocloud/terraform-provider-neocloud/internal/emulator/runpod"
	"github.com/neocloud/terraform-provider-neocloud/internal/emulator/server"
)

// version is set at build time: -ldflags "-X main.version=1.2.3".
var version = "dev"

const usageHead = `neocloud-emulator serves local emulators of the Lambda Cloud, RunPod and CoreWeave APIs on one
port, for the neocloud Terraform provider (and anything else that speaks those APIs).

Usage:
  neocloud-emulator [flags]

Flags:
`

const usageTail = `
Routes (every cloud under its real paths):
  /api/v1/...             Lambda Cloud API 1.8         key: -lambda-key, as "Authorization: Bearer KEY"
  /v2/...                 RunPod REST API v2           key: -runpod-key, as "Authorization: Bearer KEY"
  /v1beta1/...            CoreWeave CKS and VPC API    token: -coreweave-token, as "Authorization: Bearer TOKEN"
                          (REST; the same services over Connect, gRPC (h2c) and gRPC-Web at
                          /coreweave.cks.v1beta1.ClusterService/ and /coreweave.networking.v1beta1.VPCService/)
  /k8s/<cluster id>/...   each CKS cluster's Kubernetes API (NodePools, Nodes), same token

Default credentials (change them with the flags above):
  Lambda     lambda-emulator-key
  RunPod     runpod-emulator-key
  CoreWeave  CW-SECRET-emulator

Point the provider at it (the emulator's clock runs -time-scale times real time; tell the
provider so it paces its requests on the same clock, and never set that against a real cloud):
  export LAMBDA_API_KEY=lambda-emulator-key  NEOCLOUD_LAMBDA_ENDPOINT=http://127.0.0.1:8800/api/v1
  export RUNPOD_API_KEY=runpod-emulator-key  NEOCLOUD_RUNPOD_ENDPOINT=http://127.0.0.1:8800/v2
  export COREWEAVE_API_TOKEN=CW-SECRET-emulator COREWEAVE_API_ENDPOINT=http://127.0.0.1:8800
  export NEOCLOUD_RATE_SCALE=0.05

Admin API (no auth; CLOUD is lambda, runpod or coreweave):
  GET    /_emulator/stats                  calls per route of every cloud (?by=status: answers per route and HTTP status)
  GET    /_emulator/stats/429              the calls answered 429 (rate limited or injected), per route of every cloud
  GET    /_emulator/CLOUD/stats            calls per route of one cloud (?by=status, /stats/429 too); DELETE resets them
  GET    /_emulator/CLOUD/faults           injected faults and how often each hit; DELETE clears them
  POST   /_emulator/CLOUD/faults           inject a fault, a JSON object:
           route                "POST /api/v1/instance-operations/launch" (as in stats; empty: every route)
           action               status | rate_limit | delay | drop_after_commit | drop_before_commit
           status, message      for action status (500, 502, 503, 504, or any other code)
           retry_after_seconds  Retry-After sent with status and rate_limit
           delay                for action delay, a Go duration ("2s")
           times                hit at most this many requests (0: no limit)
           probability          hit each matching request with this probability (0: always)
         drop_after_commit runs the request (a launch happens) and closes the connection unanswered.
         Example:
           curl -X POST localhost:8800/_emulator/lambda/faults \
             -d '{"route":"POST /api/v1/instance-operations/launch","action":"drop_after_commit","times":1}'
  GET    /_emulator/CLOUD/capacity         free machines per type and region (or zone)
  PUT    /_emulator/lambda/capacity        {"instance_type":"gpu_8x_h100_sxm5","region":"us-east-1","available":0}
  PUT    /_emulator/runpod/capacity        {"gpu_type_id":"NVIDIA H100 80GB HBM3","data_center_id":"US-TX-3","cloud_type":"SECURE","available":0}
  PUT    /_emulator/coreweave/capacity     {"instance_type":"gd-8xh100ib-i128","zone":"US-EAST-04A","available":0}
  GET    /_emulator/lambda/quota           {"gpus": 64}; PUT sets the GPU quota (launches over it fail)
  GET    /_emulator/coreweave/quota        {"clusters": 5}; PUT sets the cluster quota
  PUT    /_emulator/runpod/balance         {"balance": 12.5}: deployments costing more per hour fail (null: unlimited)
  GET    /_emulator/lambda/instances       every instance, gone ones included
  POST   /_emulator/lambda/instances/ID/preempt | /unhealthy;  DELETE .../instances/ID  (out-of-band delete)
  GET    /_emulator/lambda/ssh-keys, /_emulator/lambda/file-systems
  GET    /_emulator/runpod/pods            every pod, terminated ones included
  POST   /_emulator/runpod/pods/ID/fail;   DELETE /_emulator/runpod/pods/ID  (out-of-band delete)
  GET    /_emulator/runpod/clusters, /network-volumes, /ssh-keys
  GET    /_emulator/coreweave/clusters, /vpcs, /nodepools, /clusters/ID/nodes, /instance-types
  POST   /_emulator/coreweave/clusters/ID/fail;  DELETE /_emulator/coreweave/clusters/ID  (out-of-band delete)
  POST   /_emulator/CLOUD/reset            back to a fresh account: no resources, default capacity and
                                           quota, counters and faults cleared

State (-state FILE): the machines, clusters, keys, volumes, capacity and quotas of every cloud are
loaded from FILE at start (when it exists), written within -save-interval of every change, and
written on SIGTERM or SIGINT. Lifecycles carry on from the saved times: a machine that was
booting when the emulator stopped is running after the restart once its boot time has passed.
Call counters, injected faults and rate-limit buckets are not saved.
`

func main() {
	var opts server.Options
	flags := flag.NewFlagSet("neocloud-emulator", flag.ExitOnError)
	listen := flags.String("listen", "127.0.0.1:8800", "address to listen on (port 0 picks a free port; the first line printed says which)")
	flags.Float64Var(&opts.TimeScale, "time-scale", 0.05, "multiplies every emulated duration (boot times, rate-limit windows): 1 is real time, 0.05 boots a Lambda instance in a few seconds")
	flags.StringVar(&opts.LambdaKey, "lambda-key", lambda.DefaultAPIKey, "API key the Lambda emulator accepts")
	flags.StringVar(&opts.RunPodKey, "runpod-key", runpod.DefaultAPIKey, "API key the RunPod emulator accepts")
	flags.StringVar(&opts.CoreWeaveToken, "coreweave-token", coreweave.DefaultToken, "API token the CoreWeave emulator accepts")
	statePath := flags.String("state", "", "keep the emulated clouds' state in this JSON `file` across restarts (see State below)")
	saveInterval := flags.Duration("save-interval", time.Second, "with -state, how often to check for changes and save them")
	showVersion := flags.Bool("version", false, "print the version and exit")
	flags.Usage = func() {
		out := flags.Output()
		_, _ = io.WriteString(out, usageHead)
		flags.PrintDefaults()
		_, _ = io.WriteString(out, usageTail)
	}
	_ = flags.Parse(os.Args[1:])
	if *showVersion {
		fmt.Println("neocloud-emulator", version)
		return
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "neocloud-emulator: unexpected argument %q (see -help)\n", flags.Arg(0))
		os.Exit(2)
	}
	if *saveInterval <= 0 {
		fmt.Fprintln(os.Stderr, "neocloud-emulator: -save-interval must be positive")
		os.Exit(2)
	}

	emu := server.New(opts)
	var store *stateStore
	if *statePath != "" {
		store = &stateStore{path: *statePath, srv: emu}
		if err := store.load(); err != nil {
			log.Fatalf("neocloud-emulator: %v", err)
		}
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatalf("neocloud-emulator: %v", err)
	}
	// HTTP/1.1 and unencrypted HTTP/2 (h2c) on the same port: gRPC clients of the CoreWeave
	// emulator need HTTP/2 without TLS.
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	srv := &http.Server{Handler: emu, ReadHeaderTimeout: 10 * time.Second, Protocols: &protocols}
	fmt.Printf("neocloud-emulator listening on http://%s\n", ln.Addr())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	var tick <-chan time.Time
	if store != nil {
		t := time.NewTicker(*saveInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-tick:
			if err := store.saveIfChanged(); err != nil {
				log.Printf("neocloud-emulator: %v", err)
			}
		case err := <-served:
			log.Fatalf("neocloud-emulator: %v", err)
		case <-ctx.Done():
			// Let requests in flight finish (a watch is cut short after a few seconds), then save
			// what they changed.
			shutdown, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			if err := srv.Shutdown(shutdown); err != nil {
				_ = srv.Close()
			}
			cancel()
			if store != nil {
				if err := store.saveIfChanged(); err != nil {
					log.Fatalf("neocloud-emulator: %v", err)
				}
				fmt.Printf("neocloud-emulator: state saved in %s\n", store.path)
			}
			return
		}
	}
}

// stateStore keeps the emulator's state in a file: loaded once, written whenever it changed.
type stateStore struct {
	path string
	srv  *server.Server
	last []byte // what the file holds
}

// load reads the file into the emulator; a missing file is an empty start.
func (s *stateStore) load() error {
	data, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		fmt.Printf("neocloud-emulator: no state in %s yet, starting empty\n", s.path)
		return nil
	}
	if err != nil {
		return err
	}
	if err := s.srv.ImportState(data); err != nil {
		return fmt.Errorf("%s: %w", s.path, err)
	}
	s.last = data
	fmt.Printf("neocloud-emulator: state loaded from %s\n", s.path)
	return nil
}

// saveIfChanged writes the state when it differs from what the file holds, through a temporary
// file and a rename, so a crash mid-write leaves the previous state intact.
func (s *stateStore) saveIfChanged() error {
	data, err := s.srv.ExportState()
	if err != nil {
		return fmt.Errorf("exporting state: %w", err)
	}
	if bytes.Equal(data, s.last) {
		return nil
	}
	dir := filepath.Dir(s.path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(s.path)+".*")
	if err != nil {
		return fmt.Errorf("saving state: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	// The state holds what users sent (user data, environment variables): owner-only.
	if err := tmp.Chmod(0o600); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("saving state: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("saving state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("saving state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("saving state: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("saving state: %w", err)
	}
	s.last = data
	return nil
}
