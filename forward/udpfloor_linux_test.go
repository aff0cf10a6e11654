package forward

import (
	"net"
	"syscall"
	"testing"
	"unsafe"
)

// BenchmarkUDPFloor measures this machine's floor for the fan-out's last
// step, outside pion: one 1200-byte datagram to each of 100 loopback
// receivers per send (as one sendto per packet, what pion's UDP mux does),
// and the same packets sent five at a time to one receiver with UDP GSO
// (UDP_SEGMENT, Linux 4.18+): a video frame's packets for one viewer in one
// system call. Compare ns/packet with the server's CPU per packet·viewer
// from scripts/loadbench.sh (docs/PERFORMANCE.md).
func BenchmarkUDPFloor(b *testing.B) {
	b.Run("sendto", func(b *testing.B) { udpFloor(b, 1) })
	b.Run("gso5", func(b *testing.B) { udpFloor(b, 5) })
}

func udpFloor(b *testing.B, segments int) {
	src, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	var dsts []*net.UDPAddr
	for range 100 {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		go func() {
			buf := make([]byte, 64<<10)
			for {
				if _, _, err := c.ReadFrom(buf); err != nil {
					return
				}
			}
		}()
		dsts = append(dsts, c.LocalAddr().(*net.UDPAddr))
	}
	const size = 1200
	pkt := make([]byte, segments*size)
	var oob []byte
	if segments > 1 {
		oob = make([]byte, syscall.CmsgSpace(2))
		h := (*syscall.Cmsghdr)(unsafe.Pointer(&oob[0]))
		h.Level, h.Type = syscall.IPPROTO_UDP, 103 // UDP_SEGMENT
		h.SetLen(syscall.CmsgLen(2))
		*(*uint16)(unsafe.Pointer(&oob[syscall.CmsgLen(0)])) = size
	}
	b.ResetTimer()
	for i := range b.N {
		if _, _, err := src.WriteMsgUDP(pkt, oob, dsts[i%len(dsts)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*segments), "ns/packet")
}
