// The control for ../leaky: the same work, but storeBounded keeps at most 64 records in
// a ring (older ones are overwritten and collected), so no site of this program may grow
// between profiles once the ring is full (run it with a first round of at least 64).
//
//	steady DIR W,N1,N2[,…]
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
)

var _ = func() int { runtime.MemProfileRate = 1; return 0 }()

type record struct {
	payload [1024]byte
}

var ring [64]*record
var next int

//go:noinline
func storeBounded() {
	ring[next%len(ring)] = &record{}
	next++
}

type scratch struct{ buf [512]byte }

var sink *scratch

//go:noinline
func churn() {
	s := &scratch{}
	s.buf[0] = 1
	sink = s
	sink = nil
}

func main() {
	dir := os.Args[1]
	for k, field := range strings.Split(os.Args[2], ",") {
		n, err := strconv.Atoi(field)
		if err != nil {
			panic(err)
		}
		for i := 0; i < n; i++ {
			storeBounded()
			churn()
		}
		writeProfile(filepath.Join(dir, fmt.Sprintf("heap.%d.pb.gz", k+1)))
	}
}

func writeProfile(path string) {
	f, err := os.Create(path)
	if err != nil {
		panic(err)
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		panic(err)
	}
	if err := f.Close(); err != nil {
		panic(err)
	}
}
