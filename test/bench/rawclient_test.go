package bench_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
)

// rawPoster sends HTTP/1.1 POST requests that differ only in one header,
// on keep-alive loopback connections, with none of net/http's client
// machinery: the request's bytes are built once and one header value is
// put in each time. net/http's client (Transport, Request.write, its read
// and write loops) cost the load generator about a fifth of the webhook
// intake benchmark's CPU, on the two cores the server under test shares
// with it; a webhook's real sender is another machine. The answers are
// read with net/http's own parser (http.ReadResponse), so a malformed
// answer still fails the run.
type rawPoster struct {
	addr   string
	head   []byte // request line and headers, up to the varying header's value
	tail   []byte // the rest of the headers and the body
	mu     sync.Mutex
	idle   []*rawConn
	closed bool
}

type rawConn struct {
	c   net.Conn
	r   *bufio.Reader
	buf []byte
}

// newRawPoster prepares POSTs of body to target (an http:// URL) with
// header, each carrying its own value of the header named vary.
func newRawPoster(target string, header http.Header, vary string, body []byte) (*rawPoster, error) {
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "http" {
		return nil, fmt.Errorf("raw poster: %q is not an http:// URL", target)
	}
	h := header.Clone()
	h.Del(vary)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	var head bytes.Buffer
	fmt.Fprintf(&head, "POST %s HTTP/1.1\r\nHost: %s\r\n", u.RequestURI(), u.Host)
	if err := h.Write(&head); err != nil {
		return nil, err
	}
	head.WriteString(http.CanonicalHeaderKey(vary) + ": ")
	tail := append([]byte("\r\n\r\n"), body...)
	return &rawPoster{addr: u.Host, head: head.Bytes(), tail: tail}, nil
}

// post sends one request with value as the varying header's and returns
// the answer's status code, after reading the whole answer.
func (p *rawPoster) post(value string) (int, error) {
	c, err := p.conn()
	if err != nil {
		return 0, err
	}
	c.buf = append(append(append(c.buf[:0], p.head...), value...), p.tail...)
	if _, err := c.c.Write(c.buf); err != nil {
		c.c.Close()
		return 0, err
	}
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		c.c.Close()
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || resp.Close {
		c.c.Close()
		return resp.StatusCode, err
	}
	p.put(c)
	return resp.StatusCode, nil
}

func (p *rawPoster) conn() (*rawConn, error) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		c := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return c, nil
	}
	p.mu.Unlock()
	c, err := net.Dial("tcp", p.addr)
	if err != nil {
		return nil, err
	}
	return &rawConn{c: c, r: bufio.NewReader(c)}, nil
}

func (p *rawPoster) put(c *rawConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.c.Close()
		return
	}
	p.idle = append(p.idle, c)
}

// close closes the idle connections and every one put back later.
func (p *rawPoster) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, c := range p.idle {
		c.c.Close()
	}
	p.idle = nil
}
