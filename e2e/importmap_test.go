package e2e

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/acme/crm/internal/seed"
)

// firstNumber reads the first number of a text ("1,234 active, 3 archived" -> 1234).
func firstNumber(t *testing.T, s string) int {
	t.Helper()
	m := regexp.MustCompile(`\d[\d,]*`).FindString(s)
	n, err := strconv.Atoi(strings.ReplaceAll(m, ",", ""))
	if err != nil {
		t.Fatalf("no number in %q", s)
	}
	return n
}

// A segment's size on the Segments page is the count of the table it
// opens, and says how many archived members it also has; a send without a
// mail server says its messages were kept in the outbox, not sent.
func TestSegmentCountMatchesTableAndSendSaysOutbox(t *testing.T) {
	ctx := browser(t)
	base := serve(t, "--demo") // no CRM_SMTP_HOST: the outbox
	signIn(t, ctx, base, seed.DemoAdminEmail, seed.DemoPassword)
	do(t, ctx, chromedp.EmulateViewport(1440, 900), chromedp.Navigate(base+"/crm/segments"), chromedp.WaitVisible(css("#segments-table")))
	id := get(t, ctx, chromedp.Evaluate[string](`document.querySelector("#segments-table tbody tr:first-child").dataset.segment`))
	// archive one member, as happens every day
	archived := get(t, ctx, chromedp.Evaluate[bool](`(async () => {
		const csrf = document.querySelector('meta[name="csrf-token"]').content;
		const list = await (await fetch("/api/v1/customers?limit=1&segment=`+id+`")).json();
		const r = await fetch("/api/v1/customers/" + list.items[0].id + "/archive", {method: "POST", headers: {"X-CSRF-Token": csrf}});
		return r.ok; })()`, chromedp.EvalAwaitPromise))
	if !archived {
		t.Fatal("could not archive a member")
	}
	do(t, ctx, chromedp.Reload(), chromedp.WaitVisible(css("#segments-table")))
	cell := textOf(t, ctx, `#segments-table tr[data-segment="`+id+`"] td:nth-child(2)`)
	screenshot(t, ctx, "segments-counts")
	if !strings.Contains(cell, "archived") {
		t.Fatalf("the segment's count %q does not say that archived members are left out", cell)
	}
	shown := firstNumber(t, cell)
	do(t, ctx, chromedp.Click(css(`#segments-table tr[data-segment="`+id+`"] td:first-child a`)), chromedp.WaitVisible(css("#match-count")))
	if table := firstNumber(t, textOf(t, ctx, "#match-count")); table != shown {
		t.Fatalf("the Segments page says %d (%q), the table it opens %d", shown, cell, table)
	}

	do(t, ctx, chromedp.Navigate(base+"/crm/segments"), chromedp.WaitVisible(css("#segments-table")))
	do(t, ctx, chromedp.Click(css(`#segments-table tr[data-segment="`+id+`"] [data-send-segment]`)), chromedp.WaitVisible(css("#ss-subject")),
		chromedp.SendKeys(css("#ss-subject"), "Spring news"), chromedp.SendKeys(css("#ss-body"), "Hello from the team."))
	if s := textOf(t, ctx, `#segment-send button[type=submit]`); firstNumber(t, s) != shown {
		t.Fatalf("the send offers %q, the segment has %d active members", s, shown)
	}
	do(t, ctx, chromedp.Click(css(`#segment-send button[type=submit]`)), chromedp.WaitVisible(css("#send-progress")))
	get(t, ctx, chromedp.Poll[bool](`document.getElementById("send-progress").dataset.done === "true"`))
	s := textOf(t, ctx, "#send-progress")
	screenshot(t, ctx, "segment-send-outbox")
	if !strings.Contains(s, "kept in the outbox") || regexp.MustCompile(`\d sent`).MatchString(s) {
		t.Fatalf("without a mail server the send says %q", s)
	}
}

// A Google Contacts export (the newer header) through the wizard: both
// e-mail columns are mapped (E-mail 2 an additional contact), Nickname is
// not the name, Labels become the tag Clients without Google's system
// labels, the mapping step names targets for people and shows each
// column's first values, and the preview's errors are in view.
func TestImportGoogleContactsWizard(t *testing.T) {
	ctx := browser(t)
	base := serve(t, "--demo")
	signIn(t, ctx, base, seed.DemoAdminEmail, seed.DemoPassword)
	do(t, ctx, chromedp.EmulateViewport(1440, 900), chromedp.Navigate(base+"/crm/imports?new=1"), chromedp.WaitVisible(css("#dropzone")))
	file := "First Name,Middle Name,Last Name,Phonetic First Name,Phonetic Middle Name,Phonetic Last Name,Name Prefix,Name Suffix,Nickname,File As,Organization Name,Organization Title,Organization Department,Birthday,Notes,Photo,Labels,E-mail 1 - Label,E-mail 1 - Value,E-mail 2 - Label,E-mail 2 - Value,Phone 1 - Label,Phone 1 - Value,Website 1 - Label,Website 1 - Value\n" +
		"Gloria,,Gmail,,,,,,Glo,,Gmail Labs,Head of Sales,,,,,* myContacts ::: Clients,* Work,gloria@gmail-labs.example,Home,gloria.home@example.net,Mobile,+49 151 12345678,Profile,https://gmail-labs.example\n" +
		"Gus,,Google,,,,,,,,,,,,,,* starred ::: * myContacts,,,Other,gus@google-e2e.example,,,,\n" +
		"Gil,,Broken,,,,,,,,,,,,,,,,gil@broken.example,,not-an-address,,,,\n"
	drop := `(() => { const dt = new DataTransfer();
		dt.items.add(new File([` + strconv.Quote(file) + `], "contacts.csv", {type: "text/csv"}));
		document.getElementById("dropzone").dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
		return true; })()`
	get(t, ctx, chromedp.Evaluate[bool](drop))
	do(t, ctx, chromedp.WaitVisible(css(`.map-table select[data-column="E-mail 2 - Value"]`)))
	mapped := func(col string) string {
		return get(t, ctx, chromedp.Evaluate[string](`(() => { const s = document.querySelector('.map-table select[data-column="`+col+`"]'); return s.value + "|" + s.selectedOptions[0].textContent; })()`))
	}
	for col, want := range map[string]string{"E-mail 1 - Value": "email|E-mail", "E-mail 2 - Value": "email|E-mail", "Nickname": "|Ignore",
		"First Name": "first_name|First name", "Organization Name": "company_name|Company", "Labels": "tags|Tags",
		"Organization Title": "custom:job_title|Job title", "Website 1 - Value": "custom:homepage|Homepage"} {
		if got := mapped(col); !strings.HasPrefix(got, want) {
			t.Errorf("%s mapped to %q, want %q", col, got, want)
		}
	}
	samples := textOf(t, ctx, `.map-table tbody tr:nth-child(19)`) // E-mail 1 - Value
	if !strings.Contains(samples, "gloria@gmail-labs.example") || !strings.Contains(samples, "gil@broken.example") {
		t.Errorf("the mapping step shows %q for E-mail 1 - Value, not its first values", samples)
	}
	screenshot(t, ctx, "import-google-map")
	do(t, ctx, chromedp.EmulateViewport(390, 844))
	screenshot(t, ctx, "import-google-map-390")
	do(t, ctx, chromedp.EmulateViewport(1440, 900))

	do(t, ctx, chromedp.Click(css("#to-preview")), chromedp.WaitVisible(css(".preview-table tbody tr")))
	get(t, ctx, chromedp.Poll[bool](`document.getElementById("preview-counts").textContent.includes("3 rows")`))
	first := textOf(t, ctx, ".preview-table tbody tr:first-child")
	if !strings.Contains(first, "gloria.home@example.net") || !strings.Contains(first, "Clients") || strings.Contains(first, "myContacts") ||
		!strings.Contains(first, "Gloria Gmail") {
		t.Fatalf("first row in preview: %q", first)
	}
	if s := textOf(t, ctx, ".preview-table tbody tr:nth-child(2)"); strings.Contains(s, "myContacts") || strings.Contains(s, "starred") {
		t.Fatalf("Google's system labels became tags: %q", s)
	}
	inView := get(t, ctx, chromedp.Evaluate[bool](`(() => { const td = document.querySelector(".preview-table tbody tr:nth-child(3) td.notes");
		const r = td.getBoundingClientRect(); return td.textContent.includes("E-mail 2 - Value") && r.right <= window.innerWidth && r.left >= 0; })()`))
	if !inView {
		t.Fatal("the third row's error is not in view without scrolling sideways")
	}
	screenshot(t, ctx, "import-google-preview")
	do(t, ctx, chromedp.EmulateViewport(390, 844))
	screenshot(t, ctx, "import-google-preview-390")
	do(t, ctx, chromedp.EmulateViewport(1440, 900))

	do(t, ctx, chromedp.Click(css("#to-submit")), chromedp.WaitVisible(css("#start-import")), chromedp.Click(css("#start-import")),
		chromedp.WaitVisible(css("#import-progress")))
	get(t, ctx, chromedp.Poll[bool](`document.querySelector('#import-progress [data-slot="status"]').textContent === "done"`))
	got := get(t, ctx, chromedp.Evaluate[string](`(async () => {
		const list = await (await fetch("/api/v1/customers?q=" + encodeURIComponent("gloria@gmail-labs.example"))).json();
		const c = await (await fetch("/api/v1/customers/" + list.items[0].id)).json();
		return c.full_name + " | " + c.tags.join(",") + " | " + c.contacts.map(k => k.channel + " " + k.value + (k.primary ? "*" : "")).sort().join(", ");
	})()`, chromedp.EvalAwaitPromise))
	if got != "Gloria Gmail | Clients | email gloria.home@example.net, email gloria@gmail-labs.example*, phone +4915112345678*" {
		t.Fatalf("imported customer: %s", got)
	}
}
