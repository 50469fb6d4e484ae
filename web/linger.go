package web

import (
	"io"
	"net"
	"time"
)

// Bounds of a lingering close: how much of an unread request body is
// read and thrown away, and for how long, before the socket is closed.
const (
	lingerBytes = 64 << 20
	lingerTime  = 5 * time.Second
)

// lingeringListener closes connections the way net/http does: when the
// server refuses a request whose body it has not read (413), closing the
// socket at once would make the kernel reset the connection, and a client
// still sending would see "connection reset" instead of the 413. So a
// close first ends our side of the stream, then reads what the client
// still sends (bounded) in the background, and only then closes.
type lingeringListener struct{ net.Listener }

func (l lingeringListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		return &lingeringConn{TCPConn: tc}, nil
	}
	return c, nil
}

type lingeringConn struct{ *net.TCPConn }

func (c *lingeringConn) Close() error {
	if err := c.CloseWrite(); err != nil {
		return c.TCPConn.Close()
	}
	go func() {
		_ = c.SetReadDeadline(time.Now().Add(lingerTime))
		_, _ = io.Copy(io.Discard, io.LimitReader(c.TCPConn, lingerBytes))
		_ = c.TCPConn.Close()
	}()
	return nil
}
