// Runs rounds of allocation under GODEBUG=gctrace=1 and ends each with runtime.GC()
// (a "(forced)" line); the runtime also starts its own cycles as garbage grows. With
// "leak" as the first argument every round keeps 1 MiB more in a package-level slice
// nothing ever empties, so the live heap each cycle marks (C in A->B->C) rises.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"
)

var kept [][]byte

// last keeps the newest garbage reachable for a moment, so it is allocated on the heap
// (a slice that never escapes would live on the stack and never reach the collector).
var last []byte

func main() {
	leak := len(os.Args) > 1 && os.Args[1] == "leak"
	rounds := 40
	if len(os.Args) > 2 {
		rounds, _ = strconv.Atoi(os.Args[2])
	}
	sink := 0
	for round := 0; round < rounds; round++ {
		for i := 0; i < 1000; i++ {
			garbage := make([]byte, 32*1024)
			garbage[i] = byte(round)
			sink += int(garbage[0])
			last = garbage
		}
		if leak {
			kept = append(kept, make([]byte, 1<<20))
			for j := range kept[len(kept)-1] {
				kept[len(kept)-1][j] = byte(j)
			}
		}
		runtime.GC()
	}
	// A background cycle may still be printing its trace line: let it finish, so the
	// log does not end in a cut line (the reader skips one; the test counts rounds).
	time.Sleep(100 * time.Millisecond)
	fmt.Println(len(kept), sink)
}
