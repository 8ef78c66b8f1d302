package web

import (
	"testing"

	"github.com/acme/crm/internal/crm"
)

// One product's score is one column: the Score column when that product is
// the one it shows, else a "Score: product" column of its own.
func TestScoreColumnsNotOfferedTwice(t *testing.T) {
	products := []crm.Product{{Key: "crm", Name: "Acme CRM"}, {Key: "desk", Name: "Acme Desk"}}
	all := allColumns(products, nil, "crm")
	labels := map[string]int{}
	for _, c := range all {
		if c.Kind == "score" {
			labels[c.Product]++
		}
	}
	if labels["crm"] != 1 || labels["desk"] != 1 {
		t.Fatalf("score columns by product: %v", labels)
	}
	// a saved choice of the product's own column shows as the Score column, once
	for _, chosen := range [][]string{{"name", "score:crm"}, {"name", "score", "score:crm"}} {
		vis := visibleColumns(all, chosen)
		if len(vis) != 2 || vis[1].Key != "score" || vis[1].Product != "crm" {
			t.Fatalf("%v shows %+v", chosen, vis)
		}
	}
}
