// Command livebench measures live updates (issue 15) with the real binary:
// how long a change made through one `crm serve` takes to arrive on a
// stream of another (two processes on one PostgreSQL database), or of the
// same one (SQLite), while 200 streams are open; and what those 200 streams
// cost the serving process (its resident memory, from /proc).
//
//	go run ./bench/livebench [--postgres DSN] [--changes 200] [--streams 200]
//
// With --postgres it creates a database crm_live_bench_<random> on that
// server and drops it afterwards; without, it runs on SQLite.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

func main() {
	pgURL := flag.String("postgres", "", "a PostgreSQL server (postgres://...): two instances on a new database there; empty: SQLite, one instance")
	changes := flag.Int("changes", 200, "changes to make and time")
	streams := flag.Int("streams", 200, "streams to hold open on the measured instance")
	flag.Parse()
	if err := run(*pgURL, *changes, *streams); err != nil {
		fmt.Fprintln(os.Stderr, "livebench:", err)
		os.Exit(1)
	}
}

func run(pgURL string, changes, streams int) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "crm-livebench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "crm")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/crm").CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	dsn := filepath.Join(dir, "crm.db")
	engine := "sqlite, one instance"
	if pgURL != "" {
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		name := "crm_live_bench_" + hex.EncodeToString(b)
		admin, err := pgx.Connect(ctx, pgURL)
		if err != nil {
			return err
		}
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
			return err
		}
		defer admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		u, _ := url.Parse(pgURL)
		u.Path = "/" + name
		dsn = u.String()
		engine = "postgres, two instances"
	}
	crm := func(args ...string) (string, error) {
		out, err := exec.Command(bin, append(args, "--db", dsn)...).Output()
		return strings.TrimSpace(string(out)), err
	}
	for _, u := range []string{"ana", "ben"} {
		if _, err := crm("user", "add", "--email", u+"@example.com", "--name", strings.ToUpper(u[:1])+u[1:], "--role", "member", "--password", "long enough password"); err != nil {
			return fmt.Errorf("user add: %w", err)
		}
	}
	anaTok, err := crm("token", "create", "--email", "ana@example.com")
	if err != nil {
		return err
	}
	benTok, err := crm("token", "create", "--email", "ben@example.com")
	if err != nil {
		return err
	}

	a, err := start(bin, dsn)
	if err != nil {
		return err
	}
	defer a.stop()
	b := a
	if pgURL != "" {
		if b, err = start(bin, dsn); err != nil {
			return err
		}
		defer b.stop()
	}

	// The streams, all on b: the first is timed, the others count.
	time.Sleep(500 * time.Millisecond)
	rssBefore := b.rss()
	timed, err := openStream(b.url, benTok)
	if err != nil {
		return err
	}
	var counted atomic.Int64
	var others []*stream
	for range streams - 1 {
		s, err := openStream(b.url, benTok)
		if err != nil {
			return err
		}
		others = append(others, s)
		go func() {
			for range s.events {
				counted.Add(1)
			}
		}()
	}
	time.Sleep(time.Second)
	rssOpen := b.rss()

	var lat []time.Duration
	for i := range changes {
		start := time.Now()
		body := fmt.Sprintf(`{"full_name":"Live Bench %d"}`, i)
		req, _ := http.NewRequest("POST", a.url+"/api/v1/customers", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+anaTok)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		var c struct{ ID int64 }
		_ = json.NewDecoder(res.Body).Decode(&c)
		res.Body.Close()
		if res.StatusCode != 201 {
			return fmt.Errorf("create: %d", res.StatusCode)
		}
		for {
			select {
			case ev := <-timed.events:
				if ev.CustomerID != c.ID {
					continue
				}
				lat = append(lat, time.Since(start))
			case <-time.After(30 * time.Second):
				return fmt.Errorf("change %d did not arrive within 30 s", i)
			}
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	rssAfter := b.rss()
	for _, s := range append(others, timed) {
		s.close()
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		return lat[min(len(lat)-1, int(float64(len(lat))*p))].Round(time.Millisecond)
	}
	fmt.Printf("engine: %s\n", engine)
	fmt.Printf("changes: %d, arrival after the change's request began: p50 %s, p95 %s, max %s\n", len(lat), pct(0.50), pct(0.95), lat[len(lat)-1].Round(time.Millisecond))
	fmt.Printf("streams: %d open on the receiving instance; each of the other %d got %.1f of %d events on average\n",
		streams, streams-1, float64(counted.Load())/float64(max(streams-1, 1)), changes)
	fmt.Printf("receiving process RSS: %.1f MB before, %.1f MB with %d streams open (+%.1f MB), %.1f MB after the changes\n",
		mb(rssBefore), mb(rssOpen), streams, mb(rssOpen-rssBefore), mb(rssAfter))
	return nil
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }

type instance struct {
	cmd *exec.Cmd
	url string
}

var runningAt = regexp.MustCompile(`Customers is running at (http://\S+)`)

func start(bin, dsn string) (*instance, error) {
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--db", dsn, "--log-level", "error")
	cmd.Env = append(os.Environ(), "CRM_GRAVATAR=off")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if m := runningAt.FindStringSubmatch(sc.Text()); m != nil {
			go func() { _, _ = io.Copy(io.Discard, out) }()
			return &instance{cmd: cmd, url: m[1]}, nil
		}
	}
	_ = cmd.Process.Kill()
	return nil, fmt.Errorf("crm serve did not start")
}

func (i *instance) stop() {
	_ = i.cmd.Process.Signal(os.Interrupt)
	_ = i.cmd.Wait()
}

// rss is the process's resident memory, in bytes.
func (i *instance) rss() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", i.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if f := strings.Fields(string(line)); len(f) >= 2 && f[0] == "VmRSS:" {
			var kb int64
			fmt.Sscan(f[1], &kb)
			return kb << 10
		}
	}
	return 0
}

type event struct {
	CustomerID int64 `json:"customer_id"`
}

type stream struct {
	res    *http.Response
	events chan event
	once   sync.Once
}

func openStream(base, token string) (*stream, error) {
	req, _ := http.NewRequest("GET", base+"/api/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := (&http.Client{Transport: &http.Transport{}}).Do(req) // a connection each
	if err != nil {
		return nil, err
	}
	if res.StatusCode != 200 {
		res.Body.Close()
		return nil, fmt.Errorf("events: %d", res.StatusCode)
	}
	s := &stream{res: res, events: make(chan event, 10000)}
	go func() {
		defer close(s.events)
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var ev event
				if json.Unmarshal([]byte(d), &ev) == nil {
					s.events <- ev
				}
			}
		}
	}()
	return s, nil
}

func (s *stream) close() { s.once.Do(func() { s.res.Body.Close() }) }
