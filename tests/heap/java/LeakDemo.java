// A JVM service with three leaks of known size, and a healthy control, that writes a heap
// dump (HPROF, through HotSpotDiagnosticMXBean) after every round. Used by
// tests/it/hprof.rs and scripts/bench_hprof.sh.
//
// usage: java -cp DIR com.shop.LeakDemo leaky|control ROUNDS OUT_PREFIX live|all [ORDERS_PER_ROUND [PAYLOAD_BYTES]]
//
// Per round, the leaky mode adds exactly ORDERS_PER_ROUND (default 500) Order objects to a
// static HashMap that is never emptied, 200 RequestListener objects to a listener list
// that is never shrunk, and 100 RequestBuffer objects to ThreadLocal lists of a fixed pool
// of 4 threads (a buffer per task, never cleared). Both modes also use a bounded LRU cache
// (100 CacheEntry objects at most) and make garbage, which is what a healthy service does.
package com.shop;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

public class LeakDemo {
    public static void main(String[] args) throws Exception {
        boolean leaky = args[0].equals("leaky");
        int rounds = Integer.parseInt(args[1]);
        String prefix = args[2];
        boolean live = args[3].equals("live");
        int orders = args.length > 4 ? Integer.parseInt(args[4]) : 500;
        Order.payloadBytes = args.length > 5 ? Integer.parseInt(args[5]) : 64;
        HotSpotDiagnosticMXBean bean =
                ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        for (int round = 1; round <= rounds; round++) {
            if (leaky) {
                Orders.take(round, orders);
                EventBus.BUS.register(round, 200);
                Workers.run(round, 100);
            }
            Healthy.work(round, 300);
            bean.dumpHeap(prefix + round + ".hprof", live);
            System.out.println(prefix + round + ".hprof");
        }
        Workers.POOL.shutdown();
    }
}

class Order {
    static int payloadBytes = 64;
    final long id;
    final String customer;
    final byte[] payload;

    Order(long id, String customer) {
        this.id = id;
        this.customer = customer;
        this.payload = new byte[payloadBytes];
    }
}

// The leak the tests name: orders put in a static map and never removed.
class Orders {
    static final Map<Long, Order> PENDING = new HashMap<>();

    static void take(int round, int n) {
        for (int i = 0; i < n; i++) {
            long id = (long) round * 1_000_000_000L + i;
            PENDING.put(id, new Order(id, "customer-" + id));
        }
    }
}

interface Listener {
    void onRequest(String path);
}

class RequestListener implements Listener {
    final int round;
    final int[] counters = new int[8];

    RequestListener(int round) {
        this.round = round;
    }

    public void onRequest(String path) {
        counters[path.length() % 8]++;
    }
}

// Listeners added on every request and never removed.
class EventBus {
    static final EventBus BUS = new EventBus();
    private final List<Listener> listeners = new ArrayList<>();

    void register(int round, int n) {
        for (int i = 0; i < n; i++) {
            listeners.add(new RequestListener(round));
        }
    }
}

class RequestBuffer {
    final byte[] data = new byte[128];
}

// A ThreadLocal on pooled threads: each task leaves its buffer in the thread's list.
class Workers {
    static final ExecutorService POOL = Executors.newFixedThreadPool(4);
    static final ThreadLocal<List<RequestBuffer>> BUFFERS = ThreadLocal.withInitial(ArrayList::new);

    static void run(int round, int tasks) throws Exception {
        List<Callable<Integer>> work = new ArrayList<>();
        for (int i = 0; i < tasks; i++) {
            work.add(() -> {
                BUFFERS.get().add(new RequestBuffer());
                return 1;
            });
        }
        for (var f : POOL.invokeAll(work)) {
            f.get();
        }
    }
}

class CacheEntry {
    final String key;
    final long[] values = new long[4];

    CacheEntry(String key) {
        this.key = key;
    }
}

// The healthy control: an LRU cache bounded to 100 entries, and garbage.
class Healthy {
    static final Map<String, CacheEntry> CACHE = new LinkedHashMap<>(16, 0.75f, true) {
        protected boolean removeEldestEntry(Map.Entry<String, CacheEntry> eldest) {
            return size() > 100;
        }
    };
    static long sink;

    static void work(int round, int n) {
        for (int i = 0; i < n; i++) {
            String key = "key-" + round + "-" + i;
            CACHE.put(key, new CacheEntry(key));
            StringBuilder garbage = new StringBuilder();
            for (int j = 0; j < 20; j++) {
                garbage.append(j).append(key);
            }
            sink += garbage.length();
        }
    }
}
