package lambda

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/emulator/emucore"
)

// stateFormat versions the document ExportState writes; ImportState refuses any other.
const stateFormat = 1

// stateDoc is the account's state as ExportState writes it: every field of state, with catalog
// entries by name. It is the emulator's own format (not a Lambda API shape), read back only by
// ImportState, so it may change with the format number.
type stateDoc struct {
	Format      int             `json:"format"`
	Instances   []instanceDoc   `json:"instances"`
	SSHKeys     []sshKeyDoc     `json:"ssh_keys"`
	FileSystems []fileSystemDoc `json:"file_systems"`
	Rulesets    []rulesetDoc    `json:"firewall_rulesets"`
	GlobalRules []firewallRule  `json:"global_firewall_rules"`
	Capacity    []capacityCell  `json:"capacity"`
	QuotaGPUs   int             `json:"quota_gpus"`
	IPSeq       int             `json:"ip_seq"`
}

type instanceDoc struct {
	ID                 string     `json:"id"`
	Name               string     `json:"name,omitempty"`
	Hostname           string     `json:"hostname,omitempty"`
	InstanceType       string     `json:"instance_type"`
	Region             string     `json:"region"`
	SSHKeyNames        []string   `json:"ssh_key_names,omitempty"`
	Mounts             []mountDoc `json:"mounts,omitempty"`
	Image              string     `json:"image,omitempty"`
	UserData           string     `json:"user_data,omitempty"`
	Tags               []tagEntry `json:"tags,omitempty"`
	RulesetIDs         []string   `json:"firewall_ruleset_ids,omitempty"`
	IP                 string     `json:"ip,omitempty"`
	PrivateIP          string     `json:"private_ip,omitempty"`
	JupyterToken       string     `json:"jupyter_token,omitempty"`
	Created            time.Time  `json:"created"`
	FirstActive        time.Time  `json:"first_active"`
	BootUntil          time.Time  `json:"boot_until"`
	Unhealthy          bool       `json:"unhealthy,omitempty"`
	TerminateRequested time.Time  `json:"terminate_requested"`
	TerminatedAt       time.Time  `json:"terminated_at"`
	PreemptedAt        time.Time  `json:"preempted_at"`
	GoneAt             time.Time  `json:"gone_at"`
	Holds              bool       `json:"holds,omitempty"`
}

type mountDoc struct {
	FileSystemID string `json:"file_system_id"`
	Name         string `json:"name"`
	MountPoint   string `json:"mount_point"`
}

type sshKeyDoc struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	PublicKey string    `json:"public_key"`
	Created   time.Time `json:"created"`
}

type fileSystemDoc struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Region     string    `json:"region"`
	MountPoint string    `json:"mount_point"`
	Created    time.Time `json:"created"`
}

type rulesetDoc struct {
	ID      string         `json:"id"`
	Name    string         `json:"name"`
	Region  string         `json:"region"`
	Rules   []firewallRule `json:"rules"`
	Created time.Time      `json:"created"`
}

// ExportState returns the account's state (instances, SSH keys, filesystems, firewall rulesets,
// capacity and quota) as JSON that ImportState reads back, in a later process too. Call counters,
// injected faults and rate-limit buckets are not part of it. The output is deterministic: the
// same state always exports to the same bytes, so a caller can tell whether anything changed.
func (e *Emulator) ExportState() ([]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.state
	doc := stateDoc{Format: stateFormat, GlobalRules: nonNil(s.globalRules), QuotaGPUs: s.quotaGPUs, IPSeq: s.ipSeq,
		Instances: []instanceDoc{}, SSHKeys: []sshKeyDoc{}, FileSystems: []fileSystemDoc{}, Rulesets: []rulesetDoc{}}
	for _, in := range e.sortedInstances() {
		d := instanceDoc{
			ID: in.id, Name: in.name, Hostname: in.hostname, InstanceType: in.typ.Name, Region: in.region.Name,
			SSHKeyNames: in.sshKeyNames, Image: in.image, UserData: in.userData, Tags: in.tags, RulesetIDs: in.rulesetIDs,
			IP: in.ip, PrivateIP: in.privateIP, JupyterToken: in.jupyterToken,
			Created: in.created.UTC(), FirstActive: in.firstActive.UTC(), BootUntil: in.bootUntil.UTC(), Unhealthy: in.unhealthy,
			TerminateRequested: in.terminateRequested.UTC(), TerminatedAt: in.terminatedAt.UTC(), PreemptedAt: in.preemptedAt.UTC(),
			GoneAt: in.goneAt.UTC(), Holds: in.holds,
		}
		for _, m := range in.mounts {
			d.Mounts = append(d.Mounts, mountDoc{FileSystemID: m.fileSystemID, Name: m.name, MountPoint: m.mountPoint})
		}
		doc.Instances = append(doc.Instances, d)
	}
	for _, id := range emucore.SortedKeys(s.sshKeys) {
		k := s.sshKeys[id]
		doc.SSHKeys = append(doc.SSHKeys, sshKeyDoc{ID: k.ID, Name: k.Name, PublicKey: k.PublicKey, Created: k.created.UTC()})
	}
	for _, id := range emucore.SortedKeys(s.fileSystems) {
		f := s.fileSystems[id]
		doc.FileSystems = append(doc.FileSystems, fileSystemDoc{ID: f.id, Name: f.name, Region: f.region.Name,
			MountPoint: f.mountPoint, Created: f.created.UTC()})
	}
	for _, id := range emucore.SortedKeys(s.rulesets) {
		r := s.rulesets[id]
		doc.Rulesets = append(doc.Rulesets, rulesetDoc{ID: r.id, Name: r.name, Region: r.region.Name,
			Rules: nonNil(r.rules), Created: r.created.UTC()})
	}
	doc.Capacity = e.capacityCellsLocked()
	return json.Marshal(doc)
}

// ImportState replaces the account's state with one ExportState wrote. Lifecycles carry on from
// the saved timestamps: an instance that was booting when the state was saved is active once
// its boot time has passed, whether or not the emulator was running meanwhile. Counters, faults
// and rate limits are left as they are. On error the state is unchanged.
func (e *Emulator) ImportState(data []byte) error {
	var doc stateDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("lambda emulator state: %w", err)
	}
	if doc.Format != stateFormat {
		return fmt.Errorf("lambda emulator state: format %d, this emulator reads format %d", doc.Format, stateFormat)
	}
	s := e.initialState()
	s.quotaGPUs, s.ipSeq = max(doc.QuotaGPUs, 0), doc.IPSeq
	if doc.GlobalRules != nil {
		s.globalRules = doc.GlobalRules
	}
	for _, d := range doc.Instances {
		typ, ok := findInstanceType(d.InstanceType)
		if !ok {
			return fmt.Errorf("lambda emulator state: instance %s: unknown instance type %q", d.ID, d.InstanceType)
		}
		rgn, ok := findRegion(d.Region)
		if !ok {
			return fmt.Errorf("lambda emulator state: instance %s: unknown region %q", d.ID, d.Region)
		}
		in := &instance{
			id: d.ID, name: d.Name, hostname: d.Hostname, typ: typ, region: rgn, sshKeyNames: d.SSHKeyNames,
			image: d.Image, userData: d.UserData, tags: d.Tags, rulesetIDs: d.RulesetIDs,
			ip: d.IP, privateIP: d.PrivateIP, jupyterToken: d.JupyterToken,
			created: local(d.Created), firstActive: local(d.FirstActive), bootUntil: local(d.BootUntil), unhealthy: d.Unhealthy,
			terminateRequested: local(d.TerminateRequested), terminatedAt: local(d.TerminatedAt),
			preemptedAt: local(d.PreemptedAt), goneAt: local(d.GoneAt), holds: d.Holds,
		}
		for _, m := range d.Mounts {
			in.mounts = append(in.mounts, mount{fileSystemID: m.FileSystemID, name: m.Name, mountPoint: m.MountPoint})
		}
		s.instances[in.id] = in
	}
	for _, d := range doc.SSHKeys {
		s.sshKeys[d.ID] = &sshKey{ID: d.ID, Name: d.Name, PublicKey: d.PublicKey, created: local(d.Created)}
	}
	for _, d := range doc.FileSystems {
		rgn, ok := findRegion(d.Region)
		if !ok {
			return fmt.Errorf("lambda emulator state: filesystem %s: unknown region %q", d.ID, d.Region)
		}
		s.fileSystems[d.ID] = &fileSystem{id: d.ID, name: d.Name, region: rgn, mountPoint: d.MountPoint, created: local(d.Created)}
	}
	for _, d := range doc.Rulesets {
		rgn, ok := findRegion(d.Region)
		if !ok {
			return fmt.Errorf("lambda emulator state: firewall ruleset %s: unknown region %q", d.ID, d.Region)
		}
		s.rulesets[d.ID] = &firewallRuleset{id: d.ID, name: d.Name, region: rgn, rules: d.Rules, created: local(d.Created)}
	}
	if doc.Capacity != nil {
		s.capacity = map[capacityKey]int{}
		for _, c := range doc.Capacity {
			if _, ok := findInstanceType(c.InstanceType); !ok {
				return fmt.Errorf("lambda emulator state: capacity: unknown instance type %q", c.InstanceType)
			}
			if _, ok := findRegion(c.Region); !ok {
				return fmt.Errorf("lambda emulator state: capacity: unknown region %q", c.Region)
			}
			s.capacity[capacityKey{c.InstanceType, c.Region}] = max(c.Available, 0)
		}
	}
	e.mu.Lock()
	e.state = s
	e.mu.Unlock()
	return nil
}

// local puts a decoded time back on the local clock the emulator reads (time.Now), keeping the
// zero time zero.
func local(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.Local()
}
