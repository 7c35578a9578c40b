package lambda

import (
	"strings"
	"testing"
	"time"
)

type wireFileSystem struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	MountPoint string    `json:"mount_point"`
	Created    time.Time `json:"created"`
	CreatedBy  struct {
		ID, Email, Status string
	} `json:"created_by"`
	IsInUse bool `json:"is_in_use"`
	Region  struct {
		Name, Description string
	} `json:"region"`
	BytesUsed *int64 `json:"bytes_used"`
}

func TestFileSystems(t *testing.T) {
	e, c, clk := newClockedEmulator(t)
	c.addKey("k")
	var fs wireFileSystem
	c.ok("POST", "/api/v1/filesystems", map[string]string{"name": "datasets", "region": "us-west-1"}, &fs)
	if fs.ID == "" || fs.Name != "datasets" || fs.MountPoint != "/lambda/nfs/datasets" || fs.Region.Name != "us-west-1" ||
		fs.Region.Description != "California, USA" || fs.IsInUse || fs.Created.IsZero() || fs.CreatedBy.Email == "" {
		t.Fatalf("created filesystem %+v", fs)
	}
	c.fail("POST", "/api/v1/filesystems", map[string]string{"name": "datasets", "region": "us-east-1"}, 409, "global/duplicate")
	c.fail("POST", "/api/v1/filesystems", map[string]string{"name": "1bad name", "region": "us-east-1"}, 400, "global/invalid-parameters")
	c.fail("POST", "/api/v1/filesystems", map[string]string{"name": "ok", "region": "moon-1"}, 400, "global/invalid-parameters")

	// Wrong region: the filesystem is in us-west-1, the launch in us-east-1.
	we := c.fail("POST", "/api/v1/instance-operations/launch",
		launchReq("gpu_1x_a10", "us-east-1", "file_system_names", []string{"datasets"}),
		400, "instance-operations/launch/file-system-in-wrong-region")
	if !strings.Contains(we.Message, "us-west-1") {
		t.Errorf("wrong-region message %q does not say where the filesystem is", we.Message)
	}
	c.fail("POST", "/api/v1/instance-operations/launch",
		launchReq("gpu_1x_a10", "us-east-1", "file_system_mounts", []map[string]string{{"file_system_id": fs.ID, "mount_point": "/data"}}),
		400, "instance-operations/launch/file-system-in-wrong-region")
	if len(e.Instances()) != 0 {
		t.Fatal("a wrong-region launch created an instance")
	}

	// Same region: mounted, in use, not deletable until the instance has terminated.
	id := c.launch(launchReq("gpu_1x_a10", "us-west-1",
		"file_system_names", []string{"datasets"},
		"file_system_mounts", []map[string]string{{"file_system_id": fs.ID, "mount_point": "/data/sets"}}))
	res := c.do("GET", "/api/v1/instances/"+id, nil)
	if !strings.Contains(string(res.body), `"file_system_mounts":[{"mount_point":"/data/sets","file_system_id":"`+fs.ID+`"}]`) {
		t.Fatalf("file_system_mounts should win over the default mount point: %s", res.body)
	}
	var list []wireFileSystem
	c.ok("GET", "/api/v1/file-systems", nil, &list)
	if len(list) != 1 || !list[0].IsInUse {
		t.Fatalf("list %+v", list)
	}
	ue := c.fail("DELETE", "/api/v1/filesystems/"+fs.ID, nil, 400, "filesystems/filesystem-in-use")
	if ue.Suggestion == "" {
		t.Error("in-use error has no suggestion")
	}
	c.ok("POST", "/api/v1/instance-operations/terminate", map[string][]string{"instance_ids": {id}}, nil)
	c.fail("DELETE", "/api/v1/filesystems/"+fs.ID, nil, 400, "filesystems/filesystem-in-use") // still terminating
	clk.Advance(20 * time.Second)
	var deleted struct {
		DeletedIDs []string `json:"deleted_ids"`
	}
	c.ok("DELETE", "/api/v1/filesystems/"+fs.ID, nil, &deleted)
	if len(deleted.DeletedIDs) != 1 || deleted.DeletedIDs[0] != fs.ID {
		t.Fatalf("delete answered %+v", deleted)
	}
	ne := c.fail("DELETE", "/api/v1/filesystems/"+fs.ID, nil, 404, "global/object-does-not-exist")
	if ne.Message != "Filesystem was not found." {
		t.Errorf("not-found message %q", ne.Message)
	}
	if len(e.FileSystems()) != 0 {
		t.Fatal("filesystem not deleted")
	}
}
