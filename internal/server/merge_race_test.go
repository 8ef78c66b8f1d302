package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

// Two merges of the same pair sent at once, A into B and B into A: one
// answers 200, the other 409 saying why, over the API as in the service.
func TestSwappedMergesOverHTTP(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		_, tok := e.user("boss@example.com", crm.RoleAdmin)
		post := func(body string) (int, string) {
			req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/customers/merge", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				return 0, err.Error()
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return res.StatusCode, string(b)
		}
		for round := range 10 {
			a, _ := e.customerWithEmail(fmt.Sprintf("A%d", round), fmt.Sprintf("a%d@example.com", round))
			b, _ := e.customerWithEmail(fmt.Sprintf("B%d", round), fmt.Sprintf("b%d@example.com", round))
			var st [2]int
			var body [2]string
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i, pair := range [2][2]int64{{a, b}, {b, a}} {
				wg.Go(func() {
					<-start
					st[i], body[i] = post(fmt.Sprintf(`{"primary_id":%d,"secondary_ids":[%d],"confirm":true}`, pair[0], pair[1]))
				})
			}
			close(start)
			wg.Wait()
			if got := []int{st[0], st[1]}; !slices.Contains(got, 200) || !slices.Contains(got, 409) {
				t.Fatalf("round %d: answers %v: %s | %s", round, got, body[0], body[1])
			}
			lost := body[slices.Index(st[:], 409)]
			var out map[string]any
			_ = json.Unmarshal([]byte(lost), &out)
			if errCode(out) != "conflict" || !strings.Contains(lost, "already been merged into") {
				t.Fatalf("round %d: the losing merge answered %s", round, lost)
			}
		}
	})
}
