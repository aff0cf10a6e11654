package dump

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// segmentBytes writes a small session into one segment and returns the
// file's bytes and what was written.
func segmentBytes(t testing.TB, nRTP int) ([]byte, []written) {
	t.Helper()
	s := newTestStore(t, Options{}, nil)
	w, err := s.NewWriter(testLeg("live", IngestLeg))
	if err != nil {
		t.Fatal(err)
	}
	sent := writeSession(t, w, time.Date(2026, 11, 21, 6, 15, 0, 0, time.UTC), nRTP)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	files := segments(t, filepath.Join(s.opts.Root, "live"))
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	return data, sent
}

// packetEnds returns the end offset of each Enhanced Packet Block of a
// little-endian pcapng file, walking the block lengths independently of
// the Reader.
func packetEnds(t testing.TB, data []byte) []int {
	t.Helper()
	var ends []int
	for off := 0; off < len(data); {
		typ := binary.LittleEndian.Uint32(data[off:])
		n := int(binary.LittleEndian.Uint32(data[off+4:]))
		if n < 12 || off+n > len(data) {
			t.Fatalf("bad block at %d", off)
		}
		off += n
		if typ == blockEPB {
			ends = append(ends, off)
		}
	}
	return ends
}

func readBytes(data []byte) ([]Packet, error) {
	r, err := newReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	var pkts []Packet
	for {
		p, err := r.Next()
		if err != nil {
			return pkts, err
		}
		p.Payload = bytes.Clone(p.Payload)
		pkts = append(pkts, p)
	}
}

// A file cut anywhere (a crash, a full disk, a copy in progress) yields
// every complete packet, then io.EOF: never an error, never garbage. The
// same holds when the cut is followed by zeros, as a filesystem may leave
// after a power loss.
func TestReaderTruncated(t *testing.T) {
	data, sent := segmentBytes(t, 40)
	ends := packetEnds(t, data)
	if len(ends) != len(sent) {
		t.Fatalf("%d packet blocks, wrote %d", len(ends), len(sent))
	}
	cuts := map[int]bool{}
	for i := max(0, len(data)-300); i <= len(data); i++ {
		cuts[i] = true
	}
	for i := 0; i <= 200; i++ { // inside the headers
		cuts[i] = true
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		cuts[rng.IntN(len(data)+1)] = true
	}
	check := func(cut int, file []byte) {
		t.Helper()
		got, err := readBytes(file)
		if !errors.Is(err, io.EOF) {
			t.Fatalf("cut at %d of %d (%d bytes read): %v after %d packets", cut, len(data), len(file), err, len(got))
		}
		// Complete packets: their whole block is in file as written
		// (zeros may complete a cut trailer: that block is intact).
		want := 0
		for want < len(ends) && ends[want] <= len(file) && bytes.Equal(file[:ends[want]], data[:ends[want]]) {
			want++
		}
		if len(got) != want {
			t.Fatalf("cut at %d: %d packets, want %d", cut, len(got), want)
		}
		for i, p := range got {
			if !bytes.Equal(p.Payload, sent[i].payload) || !p.Time.Equal(sent[i].at) {
				t.Fatalf("cut at %d: packet %d differs", cut, i)
			}
		}
	}
	for cut := range cuts {
		check(cut, data[:cut])
		// Zero-filled to the next 4 KiB, or by a whole block.
		pad := 4096 - cut%4096
		check(cut, append(data[:cut:cut], make([]byte, pad)...))
	}

	// The same through Open, on a real file.
	path := filepath.Join(t.TempDir(), "cut.pcapng")
	if err := os.WriteFile(path, data[:len(data)-5], 0o600); err != nil {
		t.Fatal(err)
	}
	pkts, intfs := readAll(t, path)
	if len(pkts) != len(sent) || len(intfs) != 1 || intfs[0].Received != 0 {
		t.Fatalf("torn ISB: %d packets, %+v", len(pkts), intfs)
	}
}

// Damage inside a file is an error that names the offset.
func TestReaderDamaged(t *testing.T) {
	data, _ := segmentBytes(t, 10)
	ends := packetEnds(t, data)
	blk := ends[3] // where the fifth packet block begins
	tests := []struct {
		name   string
		damage func(b []byte)
		want   string
	}{
		{"trailer", func(b []byte) {
			n := binary.LittleEndian.Uint32(b[blk+4:])
			b[blk+int(n)-4] ^= 0x40
		}, fmt.Sprintf("offset %d", blk)},
		{"length not a multiple of 4", func(b []byte) { b[blk+4]++ }, fmt.Sprintf("offset %d", blk)},
		{"length too small", func(b []byte) { binary.LittleEndian.PutUint32(b[blk+4:], 8) }, fmt.Sprintf("offset %d", blk)},
		{"length huge", func(b []byte) { binary.LittleEndian.PutUint32(b[blk+4:], 0xfffffff0) }, fmt.Sprintf("offset %d", blk)},
		{"captured length", func(b []byte) { binary.LittleEndian.PutUint32(b[blk+20:], 0xffff) }, fmt.Sprintf("offset %d", blk)},
		{"byte-order magic", func(b []byte) { b[8] = 0 }, "offset 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := bytes.Clone(data)
			tt.damage(b)
			pkts, err := readBytes(b)
			if err == nil || errors.Is(err, io.EOF) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("after %d packets: %v, want an error with %q", len(pkts), err, tt.want)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		content []byte
		wantErr bool
	}{
		{"empty", nil, false},
		{"pcapng magic only", []byte{0x0a, 0x0d}, false},
		{"pcap header cut", []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0}, false},
		{"text", []byte("hello world\n"), true},
		{"short text", []byte("hi"), true},
	}
	for _, tt := range tests {
		p := filepath.Join(dir, tt.name)
		os.WriteFile(p, tt.content, 0o600)
		r, err := Open(p)
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: Open: %v", tt.name, err)
		}
		if err == nil {
			if _, err := r.Next(); err != io.EOF {
				t.Errorf("%s: Next: %v, want io.EOF", tt.name, err)
			}
			r.Close()
		} else if !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %q does not name the file", tt.name, err)
		}
	}
	if _, err := Open(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open(missing): %v", err)
	}
}

// frame describes one test datagram.
type frame struct {
	src, dst netip.AddrPort
	payload  []byte
}

var (
	v4a = netip.MustParseAddrPort("10.0.0.1:5004")
	v4b = netip.MustParseAddrPort("10.0.0.2:6004")
	v6a = netip.MustParseAddrPort("[2001:db8::a]:5004")
	v6b = netip.MustParseAddrPort("[2001:db8::b]:6004")
)

// ipPacket serializes an IP packet with gopacket: UDP (v4 or v6, v6 with a
// hop-by-hop options header), or, by kind, TCP or an IPv4 fragment.
func ipPacket(t testing.TB, kind string, f frame) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	src, dst := f.src.Addr().AsSlice(), f.dst.Addr().AsSlice()
	udp := &layers.UDP{SrcPort: layers.UDPPort(f.src.Port()), DstPort: layers.UDPPort(f.dst.Port())}
	var ls []gopacket.SerializableLayer
	if f.src.Addr().Is4() {
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: src, DstIP: dst}
		switch kind {
		case "tcp":
			ip.Protocol = layers.IPProtocolTCP
			tcp := &layers.TCP{SrcPort: 1, DstPort: 2, Seq: 1, ACK: true, Window: 100}
			tcp.SetNetworkLayerForChecksum(ip)
			ls = []gopacket.SerializableLayer{ip, tcp}
		case "fragment":
			ip.Flags = layers.IPv4MoreFragments
			udp.SetNetworkLayerForChecksum(ip)
			ls = []gopacket.SerializableLayer{ip, udp}
		default:
			udp.SetNetworkLayerForChecksum(ip)
			ls = []gopacket.SerializableLayer{ip, udp}
		}
	} else {
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolIPv6HopByHop, SrcIP: src, DstIP: dst}
		udp.SetNetworkLayerForChecksum(ip)
		hop := gopacket.Payload{byte(layers.IPProtocolUDP), 0, 1, 4, 0, 0, 0, 0} // PadN
		ls = []gopacket.SerializableLayer{ip, hop, udp}
	}
	ls = append(ls, gopacket.Payload(f.payload))
	if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(buf.Bytes())
}

// linkFrame wraps an IP packet in a link-layer header.
func linkFrame(t testing.TB, link int, ip []byte) []byte {
	t.Helper()
	etype := uint16(etherIPv4)
	if ip[0]>>4 == 6 {
		etype = etherIPv6
	}
	mac := net.HardwareAddr{2, 0, 0, 0, 0, 1}
	var hdr []byte
	switch link {
	case linkTypeRaw, linkIPv4, linkIPv6:
	case linkNull: // host byte order; AF_INET6 is 30 on macOS
		hdr = binary.LittleEndian.AppendUint32(nil, map[uint16]uint32{etherIPv4: 2, etherIPv6: 30}[etype])
	case linkLoop:
		hdr = binary.BigEndian.AppendUint32(nil, map[uint16]uint32{etherIPv4: 2, etherIPv6: 24}[etype])
	case linkEthernet:
		buf := gopacket.NewSerializeBuffer()
		eth := &layers.Ethernet{SrcMAC: mac, DstMAC: mac, EthernetType: layers.EthernetTypeDot1Q}
		vlan := &layers.Dot1Q{VLANIdentifier: 42, Type: layers.EthernetType(etype)}
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{}, eth, vlan, gopacket.Payload(ip)); err != nil {
			t.Fatal(err)
		}
		return bytes.Clone(buf.Bytes()) // padded to 60 bytes if short
	case linkSLL:
		hdr = binary.BigEndian.AppendUint16(nil, 0) // incoming
		hdr = binary.BigEndian.AppendUint16(hdr, 1) // ARPHRD_ETHER
		hdr = binary.BigEndian.AppendUint16(hdr, 6) // address length
		hdr = append(hdr, 2, 0, 0, 0, 0, 1, 0, 0)   // address, padded to 8
		hdr = binary.BigEndian.AppendUint16(hdr, etype)
	case linkSLL2:
		hdr = binary.BigEndian.AppendUint16(nil, etype)
		hdr = binary.BigEndian.AppendUint16(hdr, 0)     // reserved
		hdr = binary.BigEndian.AppendUint32(hdr, 3)     // interface index
		hdr = binary.BigEndian.AppendUint16(hdr, 1)     // ARPHRD_ETHER
		hdr = append(hdr, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0) // packet type, address length, address
	default:
		t.Fatalf("link type %d", link)
	}
	return append(hdr, ip...)
}

// classic writes a classic pcap file with gopacket's writer.
func classic(t testing.TB, nano bool, link int, frames [][]byte, start time.Time) []byte {
	t.Helper()
	var b bytes.Buffer
	w := pcapgo.NewWriter(&b)
	if nano {
		w = pcapgo.NewWriterNanos(&b)
	}
	if err := w.WriteFileHeader(65535, layers.LinkType(link)); err != nil {
		t.Fatal(err)
	}
	for i, f := range frames {
		ci := gopacket.CaptureInfo{Timestamp: start.Add(time.Duration(i) * 1001001 * time.Nanosecond), CaptureLength: len(f), Length: len(f)}
		if err := w.WritePacket(ci, f); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// ng writes a pcapng file with gopacket's writer (another tool's pcapng:
// no if_description, its own options).
func ng(t testing.TB, link int, frames [][]byte, start time.Time) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := pcapgo.NewNgWriter(&b, layers.LinkType(link))
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range frames {
		ci := gopacket.CaptureInfo{Timestamp: start.Add(time.Duration(i) * 1001001 * time.Nanosecond), CaptureLength: len(f), Length: len(f)}
		if err := w.WritePacket(ci, f); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Captures by other tools: every supported link type, classic pcap
// (micro- and nanosecond) and pcapng, IPv4 and IPv6; non-UDP frames and
// fragments are skipped and counted.
func TestReaderLinkTypes(t *testing.T) {
	start := time.Date(2026, 11, 21, 6, 15, 0, 123456000, time.UTC)
	udp := []frame{
		{v4a, v4b, []byte{0x80, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 7, 0xaa}},
		{v6a, v6b, []byte{0x80, 200, 0, 6, 0, 0, 0, 7}}, // SR over IPv6
		{v4b, v4a, bytes.Repeat([]byte{0x80, 0x60}, 600)},
	}
	links := []struct {
		link   int
		v4, v6 bool
	}{
		{linkNull, true, true},
		{linkEthernet, true, true},
		{linkTypeRaw, true, true},
		{linkLoop, true, true},
		{linkSLL, true, true},
		{linkIPv4, true, false},
		{linkIPv6, false, true},
		{linkSLL2, true, true},
	}
	for _, l := range links {
		var frames [][]byte
		var want []frame
		for _, f := range udp {
			if f.src.Addr().Is4() && !l.v4 || f.src.Addr().Is6() && !l.v6 {
				continue
			}
			frames = append(frames, linkFrame(t, l.link, ipPacket(t, "", f)))
			want = append(want, f)
		}
		skip := 0
		if l.v4 {
			frames = append(frames,
				linkFrame(t, l.link, ipPacket(t, "tcp", udp[0])),
				linkFrame(t, l.link, ipPacket(t, "fragment", udp[0])))
			skip = 2
		}
		for _, format := range []string{"pcap", "pcap-ns", "pcapng"} {
			t.Run(fmt.Sprintf("%s/%d", format, l.link), func(t *testing.T) {
				var data []byte
				switch format {
				case "pcap":
					data = classic(t, false, l.link, frames, start)
				case "pcap-ns":
					data = classic(t, true, l.link, frames, start)
				default:
					data = ng(t, l.link, frames, start)
				}
				r, err := newReader(bytes.NewReader(data), int64(len(data)))
				if err != nil {
					t.Fatal(err)
				}
				for i, w := range want {
					p, err := r.Next()
					if err != nil {
						t.Fatalf("packet %d: %v", i, err)
					}
					wantTime := start.Add(time.Duration(i) * 1001001 * time.Nanosecond)
					if format == "pcap" {
						wantTime = wantTime.Truncate(time.Microsecond)
					}
					if p.Src != w.src || p.Dst != w.dst || !bytes.Equal(p.Payload, w.payload) || !p.Time.Equal(wantTime) {
						t.Fatalf("packet %d: %v %v→%v %x, want %v %v→%v %x", i, p.Time, p.Src, p.Dst, p.Payload, wantTime, w.src, w.dst, w.payload)
					}
					if wantRTCP := w.payload[1] == 200; p.RTCP != wantRTCP {
						t.Fatalf("packet %d: RTCP %v", i, p.RTCP)
					}
				}
				if _, err := r.Next(); err != io.EOF {
					t.Fatalf("after the packets: %v", err)
				}
				if r.Skipped() != skip {
					t.Fatalf("skipped %d, want %d", r.Skipped(), skip)
				}
				if intfs := r.Interfaces(); len(intfs) != 1 || intfs[0].LinkType != l.link {
					t.Fatalf("interfaces %+v", intfs)
				}
			})
		}
	}

	// A classic file cut inside a record ends cleanly.
	first := linkFrame(t, linkEthernet, ipPacket(t, "", udp[0]))
	data := classic(t, false, linkEthernet, [][]byte{first, linkFrame(t, linkEthernet, ipPacket(t, "", udp[2]))}, start)
	for cut := len(data) - 1; cut >= 0; cut-- {
		pkts, err := readBytes(data[:cut])
		want := 0
		if cut >= 24+16+len(first) {
			want = 1
		}
		if err != io.EOF || len(pkts) != want {
			t.Fatalf("classic cut at %d: %d packets, %v; want %d", cut, len(pkts), err, want)
		}
	}
}

// A big-endian pcapng with microsecond and binary timestamp resolutions, a
// timestamp offset, a Simple Packet Block and the obsolete Packet Block:
// what some other writers produce, built by hand per the specification.
func TestReaderBigEndianPcapng(t *testing.T) {
	file, f1, f2 := bigEndianPcapng(t)
	pkts, err := readBytes(file)
	if err != io.EOF {
		t.Fatal(err)
	}
	want := []struct {
		f     frame
		iface int
		at    time.Time
	}{
		{f1, 0, time.Unix(1_700_000_000, 500_000_000)},
		{f2, 1, time.Unix(1_700_000_100, 500_000_000)},
		{f1, 0, time.Time{}}, // SPB: no timestamp
		{f2, 1, time.Unix(1_700_000_100, 250_000_000)},
	}
	if len(pkts) != len(want) {
		t.Fatalf("%d packets, want %d", len(pkts), len(want))
	}
	for i, w := range want {
		p := pkts[i]
		if p.Src != w.f.src || !bytes.Equal(p.Payload, w.f.payload) || p.Interface != w.iface || (!w.at.IsZero() && !p.Time.Equal(w.at)) {
			t.Errorf("packet %d: %+v, want %+v", i, p, w)
		}
	}
	r, _ := newReader(bytes.NewReader(file), int64(len(file)))
	for {
		if _, err := r.Next(); err != nil {
			break
		}
	}
	intfs := r.Interfaces()
	if len(intfs) != 2 || intfs[0].Name != "us" || intfs[1].Name != "bin" || intfs[1].Received != 42 || intfs[1].Dropped != 2 || r.Skipped() != 1 {
		t.Fatalf("interfaces %+v, skipped %d", intfs, r.Skipped())
	}
}

// Files rewritten by Wireshark's own tools, and our segments concatenated
// (a multi-section pcapng), read like the originals.
func TestReaderOtherTools(t *testing.T) {
	dir := t.TempDir()
	s := newTestStore(t, Options{Root: dir, SegmentBytes: 6 << 10}, nil)
	w, err := s.NewWriter(testLeg("live", IngestLeg))
	if err != nil {
		t.Fatal(err)
	}
	sent := writeSession(t, w, time.Date(2026, 11, 21, 6, 15, 0, 0, time.UTC), 20)
	w.Close()
	files := segments(t, filepath.Join(dir, "live"))
	if len(files) < 2 {
		t.Fatalf("want ≥ 2 segments, got %v", files)
	}
	a, b := files[0], files[1]
	aPkts, _ := readAll(t, a)
	bPkts, _ := readAll(t, b)

	// cat: two sections, each with its own interface 0.
	cat := filepath.Join(dir, "cat.pcapng")
	da, _ := os.ReadFile(a)
	db, _ := os.ReadFile(b)
	os.WriteFile(cat, append(bytes.Clone(da), db...), 0o600)
	pkts, intfs := readAll(t, cat)
	if len(pkts) != len(aPkts)+len(bPkts) || len(intfs) != 2 || pkts[len(pkts)-1].Interface != 1 || pkts[0].Interface != 0 ||
		intfs[0].Received != uint64(len(aPkts)) || intfs[1].Received != uint64(len(bPkts)) {
		t.Fatalf("concatenated: %d packets, interfaces %+v", len(pkts), intfs)
	}
	if out := tool(t, "tshark", "-r", cat, "-T", "fields", "-e", "frame.number"); strings.Count(out, "\n") != len(pkts) {
		t.Fatalf("tshark reads %d frames of the concatenation, want %d", strings.Count(out, "\n"), len(pkts))
	}

	// mergecap keeping both interfaces; editcap to classic pcap (µs, ns).
	merged := filepath.Join(dir, "merged.pcapng")
	tool(t, "mergecap", "-I", "none", "-w", merged, a, b)
	pkts, intfs = readAll(t, merged)
	if len(pkts) != len(aPkts)+len(bPkts) || len(intfs) != 2 || intfs[1].Description != redactSDP(testSDP) {
		t.Fatalf("mergecap: %d packets, interfaces %+v", len(pkts), intfs)
	}
	for _, format := range []string{"pcap", "nsecpcap"} {
		out := filepath.Join(dir, "a."+format)
		tool(t, "editcap", "-F", format, a, out)
		pkts, intfs = readAll(t, out)
		if len(pkts) != len(aPkts) || len(intfs) != 1 || intfs[0].LinkType != linkTypeRaw {
			t.Fatalf("editcap -F %s: %d packets, interfaces %+v", format, len(pkts), intfs)
		}
		for i, p := range pkts {
			at := sent[i].at
			if format == "pcap" {
				at = at.Truncate(time.Microsecond)
			}
			if !bytes.Equal(p.Payload, aPkts[i].Payload) || p.Src != aPkts[i].Src || !p.Time.Equal(at) {
				t.Fatalf("editcap -F %s: packet %d differs", format, i)
			}
		}
	}
}

// bigEndianPcapng builds a big-endian pcapng by hand: two interfaces (µs
// and 2^-10 s with a 100 s offset), EPBs, an unknown block, an SPB, an
// obsolete PB, a packet for a missing interface and an ISB.
func bigEndianPcapng(t testing.TB) (file []byte, f1, f2 frame) {
	t.Helper()
	be := binary.BigEndian
	block := func(typ uint32, body []byte) []byte {
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
		b := be.AppendUint32(nil, typ)
		b = be.AppendUint32(b, uint32(len(body)+12))
		b = append(b, body...)
		return be.AppendUint32(b, uint32(len(body)+12))
	}
	opt := func(code uint16, v []byte) []byte {
		b := be.AppendUint16(nil, code)
		b = be.AppendUint16(b, uint16(len(v)))
		b = append(b, v...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		return b
	}
	shb := block(blockSHB, append(be.AppendUint32(nil, byteOrderMagic), 0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))
	idb := func(link uint16, name string, opts ...[]byte) []byte {
		b := be.AppendUint16(nil, link)
		b = append(b, 0, 0, 0, 0, 0, 0)
		b = append(b, opt(2, []byte(name))...)
		for _, o := range opts {
			b = append(b, o...)
		}
		return block(blockIDB, append(b, 0, 0, 0, 0))
	}
	f1 = frame{v4a, v4b, []byte{0x80, 96, 0, 1}}
	f2 = frame{v6a, v6b, []byte{0x80, 201, 0, 1}}
	ip1, ip2 := ipPacket(t, "", f1), ipPacket(t, "", f2)

	epb := func(iface uint32, ts uint64, data []byte) []byte {
		b := be.AppendUint32(nil, iface)
		b = be.AppendUint32(b, uint32(ts>>32))
		b = be.AppendUint32(b, uint32(ts))
		b = be.AppendUint32(b, uint32(len(data)))
		b = be.AppendUint32(b, uint32(len(data)))
		return block(blockEPB, append(b, data...))
	}
	spb := block(blockSPB, append(be.AppendUint32(nil, uint32(len(ip1))), ip1...))
	pb := func(iface uint16, ts uint64, data []byte) []byte {
		b := be.AppendUint16(nil, iface)
		b = be.AppendUint16(b, 0)
		b = be.AppendUint32(b, uint32(ts>>32))
		b = be.AppendUint32(b, uint32(ts))
		b = be.AppendUint32(b, uint32(len(data)))
		b = be.AppendUint32(b, uint32(len(data)))
		return block(blockPB, append(b, data...))
	}
	isb := block(blockISB, append(append(be.AppendUint32(nil, 1), 0, 0, 0, 0, 0, 0, 0, 0),
		append(opt(4, be.AppendUint64(nil, 42)), append(opt(5, be.AppendUint64(nil, 2)), 0, 0, 0, 0)...)...))
	unknown := block(0x0bad, []byte{1, 2, 3, 4})

	file = append(file, shb...)
	file = append(file, idb(linkTypeRaw, "us")...)                                                                  // default resolution: µs
	file = append(file, idb(linkEthernet, "bin", opt(9, []byte{0x80 | 10}), opt(14, be.AppendUint64(nil, 100)))...) // 2^-10 s, +100 s
	file = append(file, epb(0, 1_700_000_000_500_000, ip1)...)
	file = append(file, unknown...)
	file = append(file, epb(1, 1700000000<<10|512, linkFrame(t, linkEthernet, ip2))...)
	file = append(file, spb...)
	file = append(file, pb(1, 1700000000<<10|256, linkFrame(t, linkEthernet, ip2))...)
	file = append(file, epb(7, 0, ip1)...) // no such interface: skipped
	file = append(file, isb...)

	return file, f1, f2
}
