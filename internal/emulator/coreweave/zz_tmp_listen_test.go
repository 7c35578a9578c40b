package coreweave

import (
	"net/http"
	"os"
	"testing"
	"time"
)

// Temporary: serves the emulator for a manual client-go check. Removed after use.
func TestTmpListen(t *testing.T) {
	addr := os.Getenv("CW_LISTEN")
	if addr == "" {
		t.Skip()
	}
	e := New(Options{TimeScale: 0.0001})
	srv := &http.Server{Addr: addr, Handler: e}
	go srv.ListenAndServe()
	time.Sleep(120 * time.Second)
	srv.Close()
}
