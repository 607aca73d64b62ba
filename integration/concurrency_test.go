package integration

import (
	"strings"
	"sync"
	"testing"
)

// Many hako processes racing on one id: one create wins, the others say
// the id exists; one start wins, the others see it running; nothing is
// left corrupted or behind.
func TestConcurrentCommands(t *testing.T) {
	e := newEnv(t)
	bundle := e.bundle([]string{"testinit", "sleep"}, nil)
	id := e.id("race")
	race := func(n int, args ...string) (wins int, others []result) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := e.hako(args...)
				mu.Lock()
				defer mu.Unlock()
				if r.code == 0 {
					wins++
				} else {
					others = append(others, r)
				}
			}()
		}
		wg.Wait()
		return
	}
	wins, others := race(50, "create", "--bundle", bundle, id)
	if wins != 1 {
		t.Fatalf("%d of 50 concurrent creates succeeded", wins)
	}
	for _, r := range others {
		if !strings.Contains(r.stderr, "container with id "+id+" already exists") {
			t.Errorf("a losing create said: %q", r.stderr)
		}
	}
	if st := e.state(id); st.Status != "created" {
		t.Errorf("state after the race: %+v", st)
	}
	wins, others = race(10, "start", id)
	if wins != 1 {
		t.Errorf("%d of 10 concurrent starts succeeded", wins)
	}
	for _, r := range others {
		if !strings.Contains(r.stderr, "cannot start an already running container") {
			t.Errorf("a losing start said: %q", r.stderr)
		}
	}
	wins, _ = race(5, "delete", "--force", id)
	if wins < 1 {
		t.Errorf("no concurrent delete succeeded")
	}
}
