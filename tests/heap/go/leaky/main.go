// A Go program that leaks by construction, for tests/heap.rs.
//
//	leaky DIR W,N1,N2[,…]
//
// Each round calls retainRecord N times (every call keeps one 1,024-byte leakedRecord
// alive forever, on a linked list) and churn N times (allocations dropped at once),
// then runs a GC and writes DIR/heap.<round>.pb.gz with runtime/pprof. The memory
// profile rate is 1, so every allocation is recorded: in-use growth of retainRecord
// between the first and the last profile is exactly (N1+N2+…) records.
// With LEAKY_CPU_PROFILE=FILE it also writes a CPU profile (no in-use sample types) of
// the whole run there, for the error case.
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

// Set before anything allocates: a profile rate of 1 records every allocation.
var _ = func() int { runtime.MemProfileRate = 1; return 0 }()

type leakedRecord struct {
	next    *leakedRecord
	payload [1016]byte
}

var head *leakedRecord

//go:noinline
func retainRecord() {
	head = &leakedRecord{next: head}
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
	if path := os.Getenv("LEAKY_CPU_PROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			panic(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			panic(err)
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	dir := os.Args[1]
	for k, field := range strings.Split(os.Args[2], ",") {
		n, err := strconv.Atoi(field)
		if err != nil {
			panic(err)
		}
		for i := 0; i < n; i++ {
			retainRecord()
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
