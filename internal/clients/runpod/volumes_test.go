package runpod

import (
	"errors"
	"net/http"
	"sync"
	"testing"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

func TestNetworkVolumes(t *testing.T) {
	f, c := newFakeCloud(t)
	f.json("GET", "/network-volumes", 200, `{"networkVolumes":[]}`)
	f.json("POST", "/network-volumes", 201, mustJSON(volumeDoc("vol1", "datasets", 500, "EU-RO-1")))
	f.json("GET", "/network-volumes/vol1", 200, mustJSON(volumeDoc("vol1", "datasets", 500, "EU-RO-1")))
	f.json("PATCH", "/network-volumes/vol1", 200, mustJSON(volumeDoc("vol1", "datasets", 1000, "EU-RO-1")))
	f.Handle("DELETE", "/network-volumes/vol1", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) })
	f.problem("DELETE", "/network-volumes/gone", 404, "Not Found", "network volume not found")

	v, err := c.CreateNetworkVolume(t.Context(), CreateNetworkVolumeRequest{Name: "datasets", Size: 500, DataCenter: "EU-RO-1"})
	if err != nil || v.ID != "vol1" {
		t.Fatalf("%+v %v", v, err)
	}
	assertJSON(t, f.Requests("POST", "/network-volumes")[0].Body, `{"name":"datasets","size":500,"dataCenter":"EU-RO-1"}`)
	if v, err = c.ResizeNetworkVolume(t.Context(), "vol1", 1000); err != nil || v.Size != 1000 {
		t.Fatalf("grow: %+v %v", v, err)
	}
	assertJSON(t, f.Requests("PATCH", "/network-volumes/vol1")[0].Body, `{"size":1000}`)
	// Shrinking is refused before anything is sent.
	if _, err = c.ResizeNetworkVolume(t.Context(), "vol1", 100); !errors.Is(err, clients.ErrInvalid) {
		t.Errorf("shrink: %v", err)
	}
	f.WantCount(t, "PATCH", "/network-volumes/vol1", 1, "patches")
	if _, err = c.CreateNetworkVolume(t.Context(), CreateNetworkVolumeRequest{Name: "x", Size: 5, DataCenter: "EU-RO-1"}); !errors.Is(err, clients.ErrInvalid) {
		t.Errorf("too small: %v", err)
	}
	if err = c.DeleteNetworkVolume(t.Context(), "vol1"); err != nil {
		t.Error(err)
	}
	if err = c.DeleteNetworkVolume(t.Context(), "gone"); err != nil {
		t.Errorf("already gone: %v", err)
	}
}

// TestCreateNetworkVolumeLostAnswer: the new volume of that name and data center is adopted,
// not an older one of the same name nor a new one of another name or place, and nothing is
// created twice.
func TestCreateNetworkVolumeLostAnswer(t *testing.T) {
	f, c := newFakeCloud(t)
	var mu sync.Mutex
	vols := []map[string]any{volumeDoc("old", "datasets", 500, "EU-RO-1")}
	f.Handle("GET", "/network-volumes", func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		writeRaw(w, 200, mustJSON(map[string]any{"networkVolumes": vols}))
	})
	f.Handle("POST", "/network-volumes", func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		// Someone else's volume appears meanwhile, of another name or in another data center.
		vols = append(vols, volumeDoc("theirs", "scratch", 500, "EU-RO-1"), volumeDoc("elsewhere", "datasets", 500, "US-TX-3"),
			volumeDoc("new", "datasets", 500, "EU-RO-1"))
		mu.Unlock()
		writeProblem(w, 504, "Gateway Timeout", "upstream timed out")
	})
	v, err := c.CreateNetworkVolume(t.Context(), CreateNetworkVolumeRequest{Name: "datasets", Size: 500, DataCenter: "EU-RO-1"})
	if err != nil || v.ID != "new" {
		t.Fatalf("%+v %v", v, err)
	}
	f.WantCount(t, "POST", "/network-volumes", 1, "creates")
}

// TestVolumeCloud: network volumes as neutral volumes, in use while a live pod mounts them.
func TestVolumeCloud(t *testing.T) {
	f, c := newFakeCloud(t)
	var vc clients.VolumeCloud = c
	if r := vc.VolumeRules(); !r.Sized || !r.Growable || r.MinSizeGB != 10 || r.MaxSizeGB != 4096 || len(r.Types) != 2 {
		t.Errorf("rules %+v", r)
	}
	f.json("GET", "/network-volumes", 200, `{"networkVolumes":[]}`)
	f.json("POST", "/network-volumes", 201, mustJSON(volumeDoc("vol1", "datasets", 100, "EU-RO-1")))
	f.json("GET", "/network-volumes/vol1", 200, mustJSON(volumeDoc("vol1", "datasets", 100, "EU-RO-1")))
	user := podDoc("p1", "RUNNING", nil)
	user["mounts"] = map[string]any{"network": []map[string]any{{"volumeId": "vol1", "path": "/workspace"}}}
	f.json("GET", "/pods", 200, podsJSON(user))
	f.problem("DELETE", "/network-volumes/vol1", 400, "Bad Request", "network volume vol1 is in use by pod(s) p1 and cannot be deleted; terminate them first")

	v, err := vc.CreateVolume(t.Context(), clients.VolumeSpec{Name: "datasets", Region: "EU-RO-1", SizeGB: 100, Type: "HIGH_PERFORMANCE"})
	if err != nil || v.ID != "vol1" || v.Cloud != "runpod" || v.Region != "EU-RO-1" || v.SizeGB != 100 || v.Type != "STANDARD" {
		t.Fatalf("%+v %v", v, err)
	}
	assertJSON(t, f.Requests("POST", "/network-volumes")[0].Body, `{"name":"datasets","size":100,"dataCenter":"EU-RO-1","type":"HIGH_PERFORMANCE"}`)
	if v, err = vc.GetVolume(t.Context(), "vol1"); err != nil || !v.InUse {
		t.Errorf("in use: %+v %v", v, err)
	}
	if err := vc.DeleteVolume(t.Context(), "vol1"); !clients.IsConflict(err) {
		t.Errorf("delete in use: %v", err)
	}
	f.problem("GET", "/network-volumes/vol2", 404, "Not Found", "network volume not found")
	if _, err := vc.GetVolume(t.Context(), "vol2"); !clients.IsNotFound(err) {
		t.Errorf("gone: %v", err)
	}
}
