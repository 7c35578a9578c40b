// Command neocloud-emulator serves the emulated clouds on one local port, each under its real
// path space (Lambda at /api/v1, RunPod at /v2, CoreWeave at /v1beta1 and /k8s), with the admin
// API at /_emulator. It is how the
// quickstart runs without an account, and how people poke at the provider's behaviour under
// faults.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/neocloud/terraform-provider-neocloud/internal/emulator/server"
)

func main() {
	var opts server.Options
	listen := flag.String("listen", "127.0.0.1:8800", "address to listen on")
	flag.Float64Var(&opts.TimeScale, "time-scale", 0.05, "multiplies every emulated duration (boot times, rate-limit windows): 1 is real time, 0.05 boots a Lambda instance in a few seconds")
	flag.StringVar(&opts.LambdaKey, "lambda-key", "lambda-emulator-key", "API key the Lambda emulator accepts")
	flag.StringVar(&opts.RunPodKey, "runpod-key", "runpod-emulator-key", "API key the RunPod emulator accepts")
	flag.StringVar(&opts.CoreWeaveToken, "coreweave-token", "CW-SECRET-emulator", "API token the CoreWeave emulator accepts")
	flag.Parse()

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatalf("neocloud-emulator: %v", err)
	}
	srv := &http.Server{Handler: server.New(opts)}
	fmt.Printf("neocloud-emulator listening on http://%s\n", ln.Addr())

	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		<-sig
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		log.Fatalf("neocloud-emulator: %v", err)
	}
}
