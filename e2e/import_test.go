package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/acme/crm/internal/seed"
)

// The four steps of the import wizard in a real browser: the file is
// dropped on the drop zone, a column is re-mapped and the mode changed, the
// preview shows rows with their errors, and the submitted import's progress
// runs to its summary with the error report.
func TestImportWizard(t *testing.T) {
	ctx := browser(t)
	base := serve(t, "--demo")
	signIn(t, ctx, base, seed.DemoAdminEmail, seed.DemoPassword)
	do(t, ctx, chromedp.Navigate(base+"/crm/imports?new=1"), chromedp.WaitVisible(css("#dropzone")))
	screenshot(t, ctx, "import-1-upload")

	file := "Exported from OtherCRM 2026-11-01\n\nGiven Name;Family Name;E-mail Address;Organization Name;Labels;Notes;Acme CRM\n" +
		"Wilma;Wizard;wilma.wizard@example.com;Wizard & Co;e2e, import;first;80\n" +
		"Walt;Wizard;not-an-address;Wizard & Co;;second;\n" +
		"Wanda;Wizard;wanda.wizard@example.com;;e2e;third;\n"
	drop := `(() => { const dt = new DataTransfer();
		dt.items.add(new File([` + "`" + file + "`" + `], "wizards.csv", {type: "text/csv"}));
		document.getElementById("dropzone").dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
		return true; })()`
	get(t, ctx, chromedp.Evaluate[bool](drop))
	do(t, ctx, chromedp.WaitVisible(css(`.map-table select[data-column="Notes"]`)))
	if v := get(t, ctx, chromedp.Evaluate[string](`document.querySelector('.map-table select[data-column="E-mail Address"]').value`)); v != "email" {
		t.Fatalf("E-mail Address mapped to %q", v)
	}
	// change the automatic mapping (ignore Labels) and choose create or update
	get(t, ctx, chromedp.Evaluate[bool](`(() => { const s = document.querySelector('.map-table select[data-column="Labels"]'); s.value = ""; return true; })()`))
	do(t, ctx, chromedp.Click(css(`input[name="mode"][value="upsert"]`)))
	screenshot(t, ctx, "import-2-map")

	do(t, ctx, chromedp.Click(css("#to-preview")), chromedp.WaitVisible(css(".preview-table tbody tr")))
	get(t, ctx, chromedp.Poll[bool](`document.getElementById("preview-counts").textContent.includes("3 rows")`))
	counts := textOf(t, ctx, "#preview-counts")
	if !strings.Contains(counts, "2 valid") || !strings.Contains(counts, "1 failing") {
		t.Fatalf("counts %q", counts)
	}
	if s := textOf(t, ctx, ".preview-table tbody tr:first-child"); strings.Contains(s, "e2e") || !strings.Contains(s, "crm 80") {
		t.Fatalf("an ignored column was imported, or the score is missing: %q", s)
	}
	if s := textOf(t, ctx, ".preview-table tbody tr:nth-child(2)"); !strings.Contains(s, "Fails") || !strings.Contains(s, "not an e-mail address") {
		t.Fatalf("row 2 in preview: %q", s)
	}
	screenshot(t, ctx, "import-3-preview")

	do(t, ctx, chromedp.Click(css("#to-submit")), chromedp.WaitVisible(css("#start-import")))
	if s := textOf(t, ctx, "#submit-summary"); !strings.Contains(s, "create or update") {
		t.Fatalf("summary %q", s)
	}
	screenshot(t, ctx, "import-4-submit")

	do(t, ctx, chromedp.Click(css("#start-import")), chromedp.WaitVisible(css("#import-progress")))
	get(t, ctx, chromedp.Poll[bool](`document.querySelector('#import-progress [data-slot="status"]').textContent === "done"`))
	s := textOf(t, ctx, "#import-progress")
	if !strings.Contains(s, "3 of 3 rows") || !strings.Contains(s, "Created 2") || !strings.Contains(s, "failed 1") {
		t.Fatalf("progress %q", s)
	}
	do(t, ctx, chromedp.WaitVisible(css(`#import-progress [data-slot="report"]`)))
	screenshot(t, ctx, "import-5-done")

	// leave and come back: the list shows it, and its page shows the summary
	do(t, ctx, chromedp.Navigate(base+"/crm/imports"), chromedp.WaitVisible(css("#imports-list tbody tr")))
	if s := textOf(t, ctx, "#imports-list tbody tr:first-child"); !strings.Contains(s, "wizards.csv") || !strings.Contains(s, "done") {
		t.Fatalf("list row %q", s)
	}
	screenshot(t, ctx, "import-list")
	do(t, ctx, chromedp.Navigate(base+"/crm/customers?q=wizard"), chromedp.WaitVisible(css("#customer-table")))
	get(t, ctx, chromedp.Poll[bool](`document.querySelector("#customer-table tbody").textContent.includes("Wilma Wizard")`))
}
