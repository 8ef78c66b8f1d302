package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// server is a crm serve process this command started.
type server struct {
	cmd   *exec.Cmd
	url   string
	pprof string // the profiler's base URL, when started with one
	log   string // where its log goes
	done  chan struct{}
}

// startServers builds cmd/crm and starts o.instances `crm serve` processes on
// o.db, each on a free port, and waits until each answers /healthz.
func startServers(ctx context.Context, o options, stderr io.Writer) ([]*server, error) {
	dir, err := os.MkdirTemp("", "crm-load-")
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, "crm")
	fmt.Fprintln(stderr, "building crm serve...")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/crm")
	build.Stdout, build.Stderr = stderr, stderr
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("building ./cmd/crm (run from the repository's root): %w", err)
	}
	var out []*server
	for i := range o.instances {
		args := []string{"serve", "--db", o.db, "--addr", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data")}
		if o.profile != "" {
			args = append(args, "--pprof-addr", "127.0.0.1:0")
		}
		args = append(args, o.serverArgs...)
		s := &server{log: filepath.Join(dir, fmt.Sprintf("serve-%d.log", i+1)), done: make(chan struct{})}
		logf, err := os.Create(s.log)
		if err != nil {
			return out, err
		}
		s.cmd = exec.Command(bin, args...)
		s.cmd.Stderr = logf
		pipe, err := s.cmd.StdoutPipe()
		if err != nil {
			return out, err
		}
		if err := s.cmd.Start(); err != nil {
			return out, err
		}
		out = append(out, s)
		ready := make(chan struct{})
		go func() {
			sc := bufio.NewScanner(pipe)
			for sc.Scan() {
				line := sc.Text()
				fmt.Fprintf(logf, "stdout: %s\n", line)
				if rest, ok := strings.CutPrefix(line, "Profiler (pprof) at "); ok {
					s.pprof = strings.TrimSuffix(strings.TrimSpace(rest), "/debug/pprof/")
				}
				if rest, ok := strings.CutPrefix(line, "Customers is running at "); ok {
					s.url = strings.Fields(rest)[0]
					close(ready)
				}
			}
		}()
		go func() { _ = s.cmd.Wait(); close(s.done) }()
		select {
		case <-ready:
		case <-s.done:
			return out, fmt.Errorf("crm serve stopped before it was ready; its log: %s", s.log)
		case <-time.After(5 * time.Minute):
			return out, fmt.Errorf("crm serve was not ready after 5 minutes; its log: %s", s.log)
		case <-ctx.Done():
			return out, ctx.Err()
		}
		if err := waitHealthy(ctx, s.url); err != nil {
			return out, err
		}
		fmt.Fprintf(stderr, "started crm serve %d at %s (log %s)\n", i+1, s.url, s.log)
	}
	return out, nil
}

func waitHealthy(ctx context.Context, base string) error {
	for range 600 {
		res, err := http.Get(base + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s/healthz did not answer 200", base)
}

// stopServers ends the processes gracefully (SIGTERM), then for good.
func stopServers(servers []*server, stderr io.Writer) {
	for _, s := range servers {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, s := range servers {
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
			fmt.Fprintf(stderr, "crm serve %s did not stop in 30 s; killing it\n", s.url)
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	}
}

// profile fetches a CPU profile of d from every server that has a profiler
// and writes PREFIX-N.prof.
func profileServers(ctx context.Context, servers []*server, prefix string, d time.Duration) <-chan error {
	errc := make(chan error, 1)
	go func() {
		var firstErr error
		done := make(chan error, len(servers))
		for i, s := range servers {
			go func() {
				if s.pprof == "" {
					done <- fmt.Errorf("server %d has no profiler", i+1)
					return
				}
				secs := int(d.Seconds())
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", s.pprof, secs), nil)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					done <- err
					return
				}
				defer res.Body.Close()
				f, err := os.Create(fmt.Sprintf("%s-%d.prof", prefix, i+1))
				if err != nil {
					done <- err
					return
				}
				_, err = io.Copy(f, res.Body)
				if cerr := f.Close(); err == nil {
					err = cerr
				}
				done <- err
			}()
		}
		for range servers {
			if err := <-done; err != nil && firstErr == nil {
				firstErr = err
			}
		}
		errc <- firstErr
	}()
	return errc
}
