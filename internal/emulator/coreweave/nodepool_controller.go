package coreweave

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// NodePool bookkeeping and the controller: a pool's nodes are provisioned, registered, made
// ready and drained on the emulator's clock, run lazily whenever the state is read.

// savePool gives a pool a new resourceVersion and logs the change for watchers.
func (k *kubeState) savePool(p *nodePool, typ string) {
	p.rv = k.bump()
	k.record(typ, resNodePools, p.name, p.labels, p.render(), p.rv)
}

// dropPool removes a pool object and logs its deletion.
func (k *kubeState) dropPool(p *nodePool) {
	p.rv = k.bump()
	k.record("DELETED", resNodePools, p.name, p.labels, p.render(), p.rv)
	delete(k.pools, p.name)
}

func (k *kubeState) sortedPools() []*nodePool {
	out := make([]*nodePool, 0, len(k.pools))
	for _, p := range k.pools {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

// poolNodes lists a pool's registered nodes by index.
func (k *kubeState) poolNodes(p *nodePool) []*node {
	var out []*node
	for _, n := range k.nodes {
		if n.pool == p.name {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].index < out[j].index })
	return out
}

func (k *kubeState) readyNodes(p *nodePool) int {
	ready := 0
	for _, n := range k.poolNodes(p) {
		if n.ready() {
			ready++
		}
	}
	return ready
}

// teardown frees the capacity of every node and provisioning of a cluster being deleted. The
// objects simply vanish with the cluster's API server; nobody can watch them go.
func (k *kubeState) teardown(e *Emulator) {
	for _, n := range k.nodes {
		e.release(n.typ, n.zone)
	}
	for _, p := range k.pools {
		if p.inflight != nil {
			e.release(p.inflight.typ, k.c.zone)
		}
	}
	k.nodes, k.pools = map[string]*node{}, map[string]*nodePool{}
}

func (e *Emulator) release(t *instanceType, z *zone) {
	e.state.capacity[capacityKey{t.Name, z.Name}]++
}

// removePool deletes a pool object at once with all its nodes.
func (e *Emulator) removePool(c *cluster, p *nodePool, t time.Time) {
	released := e.releasePoolNodes(c, p)
	c.kube.dropPool(p)
	if released {
		e.kick(t)
	}
}

// releasePoolNodes cancels a pool's provisioning and deletes its nodes, freeing their capacity.
func (e *Emulator) releasePoolNodes(c *cluster, p *nodePool) bool {
	released := e.cancelInflight(c, p)
	for _, n := range c.kube.poolNodes(p) {
		c.kube.dropNode(n)
		e.release(n.typ, n.zone)
		released = true
	}
	return released
}

// cancelInflight abandons the node being provisioned (and its Node object if it registered).
func (e *Emulator) cancelInflight(c *cluster, p *nodePool) bool {
	pr := p.inflight
	if pr == nil {
		return false
	}
	p.inflight = nil
	if pr.node != nil {
		c.kube.dropNode(pr.node)
	}
	e.release(pr.typ, c.zone)
	return true
}

// ---------------------------------------------------------------------------------------------
// The controller, run lazily.

type eventKind int

const (
	evReconcile eventKind = iota
	evDrain
	evRegister
	evReady
)

// nextEvent is the pool's earliest pending controller event.
func (p *nodePool) nextEvent() (time.Time, eventKind, bool) {
	var best time.Time
	var kind eventKind
	found := false
	consider := func(t time.Time, k eventKind) {
		if !t.IsZero() && (!found || t.Before(best)) {
			best, kind, found = t, k, true
		}
	}
	consider(p.reconcileAt, evReconcile)
	consider(p.drainAt, evDrain)
	if pr := p.inflight; pr != nil {
		if pr.node == nil {
			consider(pr.registerAt, evRegister)
		} else {
			consider(pr.readyAt, evReady)
		}
	}
	return best, kind, found
}

// advance runs every controller event due by now, oldest first, across all clusters (they share
// the capacity table). Events of a cluster whose API server is down at the event's time wait.
// Callers hold the lock.
func (e *Emulator) advance(now time.Time) {
	for {
		var (
			bestC *cluster
			bestP *nodePool
			bestT time.Time
			bestK eventKind
		)
		for _, c := range e.state.clusters {
			if c.kube == nil {
				continue
			}
			for _, p := range c.kube.pools {
				t, k, ok := p.nextEvent()
				if !ok || t.After(now) || !c.apiUp(t) {
					continue
				}
				if bestP == nil || t.Before(bestT) || (t.Equal(bestT) && p.seq < bestP.seq) {
					bestC, bestP, bestT, bestK = c, p, t, k
				}
			}
		}
		if bestP == nil {
			return
		}
		switch bestK {
		case evReconcile:
			e.reconcile(bestC, bestP, bestT)
		case evDrain:
			e.finishDrain(bestC, bestP, bestT)
		case evRegister:
			e.registerNode(bestC, bestP, bestT)
		case evReady:
			e.nodeReady(bestC, bestP, bestT)
		}
	}
}

// kick lets pools that wait for capacity try again at t (capacity was freed or set).
func (e *Emulator) kick(t time.Time) {
	var pools []*nodePool
	owner := map[*nodePool]*cluster{}
	for _, c := range e.state.clusters {
		if !c.apiUp(t) {
			continue
		}
		for _, p := range c.kube.pools {
			if p.blocked && !p.deleting() {
				pools = append(pools, p)
				owner[p] = c
			}
		}
	}
	sort.Slice(pools, func(i, j int) bool { return pools[i].seq < pools[j].seq })
	for _, p := range pools {
		c := owner[p]
		if e.tryStart(c, p, t) && e.refreshStatus(c, p, t) {
			c.kube.savePool(p, "MODIFIED")
		}
	}
}

// tryStart begins provisioning the pool's next node if it is below target and capacity is
// free; otherwise it marks the pool blocked (or not, once at target).
func (e *Emulator) tryStart(c *cluster, p *nodePool, t time.Time) bool {
	if p.deleting() || p.inflight != nil {
		return false
	}
	s := parsePoolSpec(p.spec)
	it, ok := findInstanceType(s.InstanceType)
	if !ok {
		return false
	}
	nodes := c.kube.poolNodes(p)
	if len(nodes) >= s.target(it) {
		p.blocked = false
		return false
	}
	key := capacityKey{it.Name, c.zone.Name}
	if e.state.capacity[key] <= 0 {
		p.blocked = true
		return false
	}
	e.state.capacity[key]--
	next := 0
	if len(nodes) > 0 {
		next = nodes[len(nodes)-1].index + 1
	}
	join := e.scaled(e.opts.NodeJoinTime)
	p.inflight = &provision{index: next, typ: it, start: t,
		registerAt: t.Add(time.Duration(float64(join) * 0.8)), readyAt: t.Add(join)}
	p.blocked = false
	return true
}

// reconcile is the controller observing the pool's latest write at t.
func (e *Emulator) reconcile(c *cluster, p *nodePool, t time.Time) {
	k := c.kube
	p.reconcileAt = time.Time{}
	changed := p.observedGen != p.generation
	p.observedGen = p.generation
	released := false
	if p.deleting() {
		released = e.cancelInflight(c, p)
		if p.drainAt.IsZero() {
			nodes := k.poolNodes(p)
			p.drainAt = t
			if len(nodes) > 0 {
				p.drainAt = t.Add(e.scaled(e.opts.NodeDrainTime))
			}
			for _, n := range nodes {
				if !n.cordoned {
					n.cordoned = true
					k.saveNode(n, "MODIFIED")
				}
			}
		}
	} else {
		if !p.hasFinalizer(nodePoolFinalizer) {
			p.finalizers = append(p.finalizers, nodePoolFinalizer)
			changed = true
		}
		s := parsePoolSpec(p.spec)
		it, _ := findInstanceType(s.InstanceType)
		target := s.target(it)
		// Scale down: the node being provisioned goes first, then the highest-numbered ones.
		for {
			nodes := k.poolNodes(p)
			count := len(nodes)
			if p.inflight != nil && p.inflight.node == nil {
				count++
			}
			if count <= target {
				break
			}
			if p.inflight != nil {
				e.cancelInflight(c, p)
			} else {
				n := nodes[len(nodes)-1]
				k.dropNode(n)
				e.release(n.typ, n.zone)
			}
			released = true
		}
		// Propagate node configuration unless the strategy defers it.
		if s.UpdateStrategy == "" || s.UpdateStrategy == "OnSpecUpdate" || s.UpdateStrategy == "Always" {
			for _, n := range k.poolNodes(p) {
				if n.applyConfig(c, p, s) {
					k.saveNode(n, "MODIFIED")
				}
			}
		}
		e.tryStart(c, p, t)
	}
	if e.refreshStatus(c, p, t) {
		changed = true
	}
	if changed {
		k.savePool(p, "MODIFIED")
	}
	if released {
		e.kick(t)
	}
}

// registerNode: the provisioning node's kubelet registers; a NotReady Node appears.
func (e *Emulator) registerNode(c *cluster, p *nodePool, t time.Time) {
	n := e.newNode(c, p, p.inflight.index, p.inflight.typ, t)
	p.inflight.node = n
	c.kube.nodes[n.name] = n
	c.kube.saveNode(n, "ADDED")
}

// nodeReady: the node turns Ready, the pool counts it and starts the next one.
func (e *Emulator) nodeReady(c *cluster, p *nodePool, t time.Time) {
	n := p.inflight.node
	n.readyAt = t
	c.kube.saveNode(n, "MODIFIED")
	p.inflight = nil
	e.tryStart(c, p, t)
	e.refreshStatus(c, p, t)
	c.kube.savePool(p, "MODIFIED")
}

// finishDrain: a deleted pool's drained nodes go, then the controller's finalizer, then (if no
// other finalizer holds it) the pool.
func (e *Emulator) finishDrain(c *cluster, p *nodePool, t time.Time) {
	k := c.kube
	p.drainAt = time.Time{}
	for _, n := range k.poolNodes(p) {
		k.dropNode(n)
		e.release(n.typ, n.zone)
	}
	var rest []string
	for _, f := range p.finalizers {
		if f != nodePoolFinalizer {
			rest = append(rest, f)
		}
	}
	p.finalizers = rest
	if len(rest) == 0 {
		k.dropPool(p)
	} else {
		e.refreshStatus(c, p, t)
		k.savePool(p, "MODIFIED")
	}
	e.kick(t)
}

// refreshStatus recomputes status.currentNodes and the conditions at t; it reports a change.
func (e *Emulator) refreshStatus(c *cluster, p *nodePool, t time.Time) bool {
	k := c.kube
	before, _ := json.Marshal(p.status)
	if p.status == nil {
		p.status = &poolStatus{}
	}
	s := parsePoolSpec(p.spec)
	it, _ := findInstanceType(s.InstanceType)
	target := s.target(it)
	ready := k.readyNodes(p)
	provisioned := len(k.poolNodes(p))
	if p.inflight != nil && p.inflight.node == nil {
		provisioned++
	}
	p.status.CurrentNodes = ready
	set := func(typ, status, reason, message string) {
		for i := range p.status.Conditions {
			cd := &p.status.Conditions[i]
			if cd.Type != typ {
				continue
			}
			if cd.Status != status {
				cd.Status, cd.LastTransitionTime = status, kubeTime(t)
			}
			cd.Reason, cd.Message, cd.ObservedGeneration = reason, message, p.observedGen
			return
		}
		p.status.Conditions = append(p.status.Conditions, condition{Type: typ, Status: status, ObservedGeneration: p.observedGen,
			LastTransitionTime: kubeTime(t), Reason: reason, Message: message})
	}
	set(CondValidated, "True", "Valid", fmt.Sprintf("instance type %s can run in zone %s", s.InstanceType, c.zone.Name))
	if p.blocked {
		set(CondCapacityAvailable, "False", ReasonInsufficientCapacity,
			fmt.Sprintf("no free %s nodes in %s: %d of %d nodes provisioned; waiting for capacity", s.InstanceType, c.zone.Name, provisioned, target))
	} else {
		set(CondCapacityAvailable, "True", "CapacityAvailable", fmt.Sprintf("capacity for %s in %s is available", s.InstanceType, c.zone.Name))
	}
	switch {
	case p.deleting():
		set(CondAtTarget, "False", "Deleting", "the node pool is being deleted; its nodes are draining")
	case ready == target && p.inflight == nil:
		set(CondAtTarget, "True", "AtTarget", fmt.Sprintf("%d of %d nodes ready", ready, target))
	default:
		set(CondAtTarget, "False", "ScalingUp", fmt.Sprintf("%d of %d nodes ready", ready, target))
	}
	after, _ := json.Marshal(p.status)
	return !bytes.Equal(before, after)
}
