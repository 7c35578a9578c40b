package runpod

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients/internal/apifake"
	"golang.org/x/time/rate"
)

func TestParseRateLimit(t *testing.T) {
	h := http.Header{}
	h.Set("RateLimit", `"minute";r=0;t=12, "hour";r=2800;t=1812, "day";r=49500;t=45012, "bogus";r=x;t=1, "half";r=3`)
	h.Set("RateLimit-Policy", `"minute";q=60;w=60, "hour";q=3000;w=3600, "day";q=50000`) // the day's length is missing
	got := parseRateLimit(h)
	minute, hour := win("minute", 0, 12*time.Second), win("hour", 2800, 1812*time.Second)
	minute.Quota, minute.Length = 60, time.Minute
	hour.Quota, hour.Length = 3000, time.Hour
	want := []rateLimitWindow{minute, hour, win("day", 49500, 45012*time.Second)}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("window %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if parseRateLimit(http.Header{}) != nil {
		t.Error("no header, yet windows")
	}
}

func respWith(rateLimit string) *http.Response {
	h := http.Header{}
	if rateLimit != "" {
		h.Set("RateLimit", rateLimit)
	}
	return &http.Response{Header: h}
}

// TestPacerPace checks which windows run short (fewer requests left than the configured pace
// could send before the reset, looking a minute ahead) and what that does to the pace: a short
// window keeps the configured pace (its requests are spent as they come, with a burst of 1),
// an exhausted one allows one request at its reset, and the latest reset of the exhausted
// windows binds.
func TestPacerPace(t *testing.T) {
	p := newPacer(DefaultLimiter())
	base := DefaultLimiter().Limit()
	cases := []struct {
		windows   []rateLimitWindow
		throttle  bool
		exhausted bool
		binding   string
		limit     rate.Limit
	}{
		// RunPod's quotas at the start of their windows: nothing runs short.
		{[]rateLimitWindow{win("minute", 60, time.Minute), win("hour", 3000, time.Hour), win("day", 50000, 24*time.Hour)}, false, false, "", 0},
		// Both short: the one with fewer left binds (its reset lifts the throttle first, and the
		// next answer says whether the other still runs short).
		{[]rateLimitWindow{win("minute", 3, 2*time.Second), win("hour", 20, 3000*time.Second)}, true, false, "minute", base},
		{[]rateLimitWindow{win("minute", 0, 12*time.Second), win("hour", 2800, 1812*time.Second)}, true, true, "minute", rate.Every(12 * time.Second)},
		{[]rateLimitWindow{win("minute", 30, 40*time.Second), win("day", 49500, 45012*time.Second)}, true, false, "minute", base},
		{[]rateLimitWindow{win("minute", 0, 12*time.Second), win("hour", 0, 1000*time.Second)}, true, true, "hour", rate.Every(1000 * time.Second)},
		{[]rateLimitWindow{win("minute", 5, 0)}, false, false, "", 0}, // resets now
		// With RunPod's policy, a short minute window is spent at its own 60 a minute, faster
		// than the configured 55; an hour's 3000 is slower, so the configured pace holds.
		{[]rateLimitWindow{{Name: "minute", Remaining: 3, Reset: 50 * time.Second, Quota: 60, Length: time.Minute}}, true, false, "minute", 1},
		{[]rateLimitWindow{{Name: "hour", Remaining: 30, Reset: 50 * time.Second, Quota: 3000, Length: time.Hour}}, true, false, "hour", base},
	}
	for i, tc := range cases {
		limit, _, throttle, exhausted, w := p.pace(tc.windows)
		if throttle != tc.throttle || exhausted != tc.exhausted || (throttle && (w.Name != tc.binding || limit != tc.limit)) {
			t.Errorf("case %d: throttle %v exhausted %v window %q limit %v", i, throttle, exhausted, w.Name, limit)
		}
	}
}

// TestPacerSlowsDownAndRestores: plenty left keeps the configured pace and burst; few left
// keeps the pace with a burst of 1; the burst comes back when the window resets, and at once
// when a later answer shows room again.
func TestPacerSlowsDownAndRestores(t *testing.T) {
	p := newPacer(DefaultLimiter())
	base := DefaultLimiter().Limit()

	p.onResponse(respWith(`"minute";r=55;t=40, "hour";r=2800;t=1812`))
	if l, b, throttled := p.state(); l != base || b != 5 || throttled {
		t.Fatalf("plenty left: limit %v burst %d throttled %v", l, b, throttled)
	}

	p.onResponse(respWith(`"minute";r=1;t=2, "hour";r=2800;t=1812`)) // 1 left for 2 s
	if l, b, throttled := p.state(); l != base || b != 1 || !throttled {
		t.Fatalf("few left: limit %v burst %d throttled %v", l, b, throttled)
	}
	// Restored once the window resets (2 s from now).
	apifake.WaitUntil(t, apifake.Patience, func() bool {
		l, b, throttled := p.state()
		return l == base && b == 5 && !throttled
	})

	p.onResponse(respWith(`"minute";r=0;t=30`))
	if l, b, throttled := p.state(); l != rate.Every(30*time.Second) || b != 1 || !throttled {
		t.Fatalf("exhausted: limit %v burst %d throttled %v", l, b, throttled)
	}
	p.onResponse(respWith(`"minute";r=60;t=60`)) // a fresh window
	if l, b, throttled := p.state(); l != base || b != 5 || throttled {
		t.Errorf("fresh window: limit %v burst %d throttled %v", l, b, throttled)
	}
	p.onResponse(respWith("")) // no header: nothing changes
	if l, _, _ := p.state(); l != base {
		t.Errorf("limit %v", l)
	}
}

// TestRateLimitHeaderSlowsRequests goes through the client: after an answer saying the minute
// window is exhausted for another second, the next request waits for that second instead of
// collecting a 429, although the configured limiter (burst 10) would let it pass at once.
func TestRateLimitHeaderSlowsRequests(t *testing.T) {
	f := newFake(t)
	c, err := NewClient(ClientConfig{Endpoint: f.Endpoint(), APIKey: testKey, Limiter: rate.NewLimiter(1, 10)})
	if err != nil {
		t.Fatal(err)
	}
	var sent []time.Time
	f.Handle("GET", "/pods", func(w http.ResponseWriter, _ *http.Request) {
		sent = append(sent, time.Now())
		if len(sent) == 1 {
			w.Header().Set("RateLimit", `"minute";r=0;t=1, "hour";r=2800;t=1812`)
			w.Header().Set("RateLimit-Policy", `"minute";q=60;w=60, "hour";q=3000;w=3600`)
		} else {
			w.Header().Set("RateLimit", `"minute";r=59;t=30, "hour";r=2799;t=1811`)
		}
		writeRaw(w, 200, podsJSON())
	})
	for range 3 {
		if _, err := c.ListPods(t.Context(), ListPodsOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if len(sent) != 3 {
		t.Fatalf("%d requests", len(sent))
	}
	if gap := sent[1].Sub(sent[0]); gap < 900*time.Millisecond {
		t.Errorf("second request %s after the first, before the window's reset", gap)
	}
	// The second answer's room restored the configured pace.
	if l, _, throttled := c.pacer.state(); l != 1 || throttled {
		t.Errorf("limit %v throttled %v", l, throttled)
	}
}

// TestDefaultLimiterStaysUnderMinuteQuota: the worst case of the token bucket in any minute
// (burst + rate x 60 s) is within RunPod's 60 requests per minute.
func TestDefaultLimiterStaysUnderMinuteQuota(t *testing.T) {
	l := DefaultLimiter()
	if worst := float64(l.Burst()) + float64(l.Limit())*60; worst > 60.0001 {
		t.Errorf("up to %.1f requests in a minute", worst)
	}
}

func win(name string, remaining int, reset time.Duration) rateLimitWindow {
	return rateLimitWindow{Name: name, Remaining: remaining, Reset: reset}
}

// TestPacerCreditIsTheRoomLeft: the credit is the fewest requests any window has left in the
// newest answer, less every request still without its answer, less the limiter's burst and
// one; an older answer can only lower it, and an exhausted window leaves none.
func TestPacerCreditIsTheRoomLeft(t *testing.T) {
	p := newPacer(rate.NewLimiter(rate.Every(time.Hour), 5))
	for seq := uint64(1); seq <= 11; seq++ {
		if p.grant(seq) {
			t.Fatalf("request %d granted before any answer", seq)
		}
	}
	// Requests 1 to 10 left on the limiter's tokens (request 11 asked, so they have left); 5
	// are answered.
	for range 5 {
		p.answer()
	}
	sent := time.Now() // every request went before any answer came
	p.observe(5, sent, []rateLimitWindow{win("minute", 40, time.Minute), win("hour", 2000, time.Hour)})
	if want := 40 - 5 - creditReserve; p.credit != want {
		t.Fatalf("credit %d after r=40 with 5 of 10 requests unanswered, want %d", p.credit, want)
	}
	p.observe(4, sent, []rateLimitWindow{win("minute", 60, time.Minute)})
	if want := 40 - 5 - creditReserve; p.credit != want {
		t.Errorf("an older answer raised the credit to %d", p.credit)
	}
	p.observe(3, sent, []rateLimitWindow{win("minute", 20, time.Minute)})
	if want := 20 - 5 - creditReserve; p.credit != want {
		t.Errorf("an older answer with less room left the credit at %d, want %d", p.credit, want)
	}
	granted := 0
	for seq := uint64(11); p.grant(seq); seq++ {
		granted++
	}
	if want := 20 - 5 - creditReserve; granted != want {
		t.Errorf("%d requests granted, want %d", granted, want)
	}
	if tokens := p.lim.Tokens(); tokens >= 1 {
		t.Errorf("the limiter holds %.1f tokens after requests went on credit, want none: it would let them through on top of the room", tokens)
	}
	p.observe(12, sent, []rateLimitWindow{win("minute", 0, 12*time.Second), win("hour", 2000, time.Hour)})
	if p.credit != 0 || p.grant(41) {
		t.Errorf("an exhausted window left credit %d", p.credit)
	}
}

// TestPacerCreditCountsRequestsThatLeftOnTheLimiter: the credit was set from an answer when
// two requests had left; three more then left on the limiter's tokens before the next one
// asked. They are taken off the credit (the server's count of the answer did not include them).
func TestPacerCreditCountsRequestsThatLeftOnTheLimiter(t *testing.T) {
	p := newPacer(rate.NewLimiter(rate.Every(time.Hour), 5))
	p.grant(1)
	p.grant(2)
	p.grant(3) // requests 1 and 2 have left
	p.answer()
	p.observe(1, time.Now(), []rateLimitWindow{win("minute", 10, time.Minute)})
	if want := 10 - 1 - creditReserve; p.credit != want {
		t.Fatalf("credit %d, want %d", p.credit, want)
	}
	// Requests 3, 4 and 5 left on the limiter; request 6 asks.
	if !p.grant(6) {
		t.Fatal("request 6 not granted")
	}
	if want := 10 - 1 - creditReserve - 3 - 1; p.credit != want {
		t.Errorf("credit %d after requests 3 to 5 left on the limiter and 6 on credit, want %d", p.credit, want)
	}
}

// TestPacerCreditCountsReorderedAnswers: requests 3 and 4 were in flight together, and RunPod
// counted 4 first: the answer to 4, the newest, says 22 left, and the answer to 3, which came
// first, says 20. The room is 20, not 22: request 3 is neither in 4's count nor unanswered. An
// answer to a request sent after both answers came is not weighed against them.
func TestPacerCreditCountsReorderedAnswers(t *testing.T) {
	p := newPacer(rate.NewLimiter(rate.Every(time.Hour), 5))
	for seq := uint64(1); seq <= 5; seq++ {
		p.grant(seq) // requests 1 to 4 have left
	}
	sent := time.Now()
	p.answer()
	p.observe(3, sent, []rateLimitWindow{win("minute", 20, time.Minute)})
	p.answer()
	p.observe(4, sent, []rateLimitWindow{win("minute", 22, time.Minute)})
	if want := 20 - 2 - creditReserve; p.credit != want {
		t.Fatalf("credit %d, want %d (from the 20 the first answer reported)", p.credit, want)
	}
	later := time.Now()
	p.grant(5)
	p.answer()
	p.observe(5, later, []rateLimitWindow{win("minute", 30, time.Minute)}) // the window refilled
	if want := 30 - 2 - creditReserve; p.credit != want {
		t.Errorf("credit %d, want %d (from the newest answer alone)", p.credit, want)
	}
}

// TestRateLimitRoomIsSpentAtOnce goes through the client: RunPod says 30 requests are left in
// the minute, and the configured limiter (one an hour, burst 5) would let only five through. The
// client spends the room the server reports at once and stops before it is gone: 29 requests
// go (the first on the limiter's token, the rest on credit, which leaves a reserve of one),
// and the 30th waits for the limiter, drained by the requests that went on credit, whose wait
// here outlasts the call's deadline, so it is not sent. None is refused.
func TestRateLimitRoomIsSpentAtOnce(t *testing.T) {
	f := newFake(t)
	c, err := NewClient(ClientConfig{Endpoint: f.Endpoint(), APIKey: testKey, Limiter: rate.NewLimiter(rate.Every(time.Hour), 5)})
	if err != nil {
		t.Fatal(err)
	}
	left := 30
	f.Handle("GET", "/pods", func(w http.ResponseWriter, _ *http.Request) {
		if left == 0 {
			w.Header().Set("RateLimit", `"minute";r=0;t=60`)
			writeRaw(w, http.StatusTooManyRequests, `{"title":"Too Many Requests","status":429}`)
			return
		}
		left--
		w.Header().Set("RateLimit", fmt.Sprintf(`"minute";r=%d;t=60, "hour";r=2900;t=3600`, left))
		writeRaw(w, 200, podsJSON())
	})
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	sent := 0
	for ; sent < 40; sent++ {
		if _, err := c.ListPods(ctx, ListPodsOptions{}); err != nil {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("request %d: %v", sent+1, err)
			}
			break
		}
	}
	if sent != 29 || left != 1 {
		t.Errorf("%d requests went (%d left in the window), want 29 (1 left)", sent, left)
	}
}

// TestRateLimitRoomShownWhileWaitingIsSpent: a request waiting for the limiter goes as soon
// as a newer answer shows room, instead of waiting out the pace an older answer set. Request 1
// is told 1 request is left (the window runs short: burst 1, and the configured pace of one an
// hour); request 2 takes the limiter's last token and is held by the server; request 3 finds no
// credit and waits for the limiter. Then request 2's answer says the window has 40 left
// (RunPod's window refilled): request 3 goes on that credit.
func TestRateLimitRoomShownWhileWaitingIsSpent(t *testing.T) {
	f := newFake(t)
	c, err := NewClient(ClientConfig{Endpoint: f.Endpoint(), APIKey: testKey, Limiter: rate.NewLimiter(rate.Every(time.Hour), 2)})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	n := 0
	held, release := make(chan struct{}), make(chan struct{})
	f.Handle("GET", "/pods", func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		n++
		i := n
		mu.Unlock()
		switch i {
		case 1:
			w.Header().Set("RateLimit", `"minute";r=1;t=60`)
		case 2:
			close(held)
			<-release
			w.Header().Set("RateLimit", `"minute";r=40;t=60`)
		default:
			w.Header().Set("RateLimit", `"minute";r=39;t=60`)
		}
		writeRaw(w, 200, podsJSON())
	})
	// The calls may wait up to two hours: the test ends long before unless request 3 is stuck
	// behind the hour the limiter asks for.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Hour)
	defer cancel()
	if _, err := c.ListPods(ctx, ListPodsOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, b, throttled := c.pacer.state(); b != 1 || !throttled {
		t.Fatalf("after r=1: burst %d throttled %v", b, throttled)
	}
	done2, done3 := make(chan error, 1), make(chan error, 1)
	go func() { _, err := c.ListPods(ctx, ListPodsOptions{}); done2 <- err }()
	<-held
	go func() { _, err := c.ListPods(ctx, ListPodsOptions{}); done3 <- err }()
	// Request 3 has asked for credit (in vain) and waits for the limiter.
	apifake.WaitUntil(t, apifake.Patience, func() bool {
		c.pacer.mu.Lock()
		defer c.pacer.mu.Unlock()
		return c.pacer.asking >= 3
	})
	close(release)
	for i, done := range []chan error{done2, done3} {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("request %d: %v", i+2, err)
			}
		case <-time.After(apifake.Patience):
			t.Fatalf("request %d still waits for the limiter after the server said 40 requests are left", i+2)
		}
	}
}
