package web

import (
	"net/http"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}
	cases := []struct {
		peer string
		xff  []string
		want string
	}{
		{"198.51.100.7:5555", nil, "198.51.100.7"},
		{"198.51.100.7:5555", []string{"1.2.3.4"}, "198.51.100.7"},                    // not from a proxy: the header is the client's own word
		{"10.0.0.2:5555", nil, "10.0.0.2"},                                            // a proxy without the header is the client
		{"10.0.0.2:5555", []string{"203.0.113.9"}, "203.0.113.9"},                     // one proxy
		{"10.0.0.2:5555", []string{"1.2.3.4, 203.0.113.9"}, "203.0.113.9"},            // the client's made-up hop is left of the real one
		{"10.0.0.2:5555", []string{"1.2.3.4, 203.0.113.9, 10.9.9.9"}, "203.0.113.9"},  // two proxies
		{"10.0.0.2:5555", []string{"1.2.3.4", "203.0.113.9,10.9.9.9"}, "203.0.113.9"}, // several header lines
		{"10.0.0.2:5555", []string{"10.1.1.1, 10.9.9.9"}, "10.1.1.1"},                 // only proxies: the left-most
		{"10.0.0.2:5555", []string{"203.0.113.9, garbage"}, "10.0.0.2"},               // garbage: the last trusted hop
		{"10.0.0.2:5555", []string{"::ffff:203.0.113.9"}, "203.0.113.9"},
		{"[2001:db8::1]:5555", []string{"2001:db8::2, 2a00::1"}, "2a00::1"},
		{"[::ffff:10.0.0.2]:5555", []string{"203.0.113.9"}, "203.0.113.9"},
	}
	for _, c := range cases {
		r, _ := http.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.peer
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := ClientIP(r, trusted); got != c.want {
			t.Errorf("peer %s X-Forwarded-For %q: %s, want %s", c.peer, c.xff, got, c.want)
		}
	}
}
