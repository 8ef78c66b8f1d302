package crm

import (
	"fmt"
	"sync"
	"testing"
)

// SearchText is called at once by an import and by people editing customers:
// it must give every caller the same text as alone (run with -race too).
func TestSearchTextConcurrent(t *testing.T) {
	want := map[int]string{}
	for i := range 8 {
		want[i] = SearchText(fmt.Sprintf("Zoë Müller-Łukasz %d", i), fmt.Sprintf("zoë.%d@Exämple.com", i), "", "Ça Va GmbH")
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for i := range 8 {
		wg.Go(func() {
			for range 2000 {
				if got := SearchText(fmt.Sprintf("Zoë Müller-Łukasz %d", i), fmt.Sprintf("zoë.%d@Exämple.com", i), "", "Ça Va GmbH"); got != want[i] {
					errs <- fmt.Sprintf("%d: %q, want %q", i, got, want[i])
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
