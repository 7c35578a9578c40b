package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime/pprof"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/neocloud/terraform-provider-neocloud/internal/provider"
)

// version is set at build time: -ldflags "-X main.version=1.2.3".
var version = "dev"

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()

	if !debug {
		// A provider started by Terraform logs what Terraform keeps; one started by hand for a
		// debugger (-debug) logs everything to the terminal, as before.
		matchTerraformLogLevel()
	}

	if dir := os.Getenv("NEOCLOUD_CPUPROFILE"); dir != "" {
		stop, err := cpuProfile(dir)
		if err != nil {
			log.Fatal(err.Error())
		}
		defer stop()
	}

	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address:         "registry.terraform.io/neocloud/neocloud",
		Debug:           debug,
		ProtocolVersion: 6,
	})
	if err != nil {
		log.Fatal(err.Error())
	}
}

// cpuProfile writes a CPU profile of this provider process to DIR/cpu-PID.pprof until stop is
// called (when Terraform shuts the provider down). Terraform starts a provider process for each
// command (two for an apply), so each gets its own file; `go tool pprof` reads them together.
func cpuProfile(dir string) (stop func(), err error) {
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("cpu-%d.pprof", os.Getpid())))
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
