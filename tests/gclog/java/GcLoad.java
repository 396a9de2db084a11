import java.util.ArrayList;
import java.util.List;

/**
 * Allocates garbage in rounds under -Xlog:gc (young pauses) and asks for a full
 * collection every third round (System.gc(): G1's Pause Full). With "leak" every round
 * also keeps 100 arrays of 16 KiB in a static list nothing ever empties, so the heap left
 * after each Pause Full rises by about 1.6 MB per round.
 */
public class GcLoad {
    static final List<byte[]> KEPT = new ArrayList<>();

    public static void main(String[] args) throws Exception {
        boolean leak = args.length > 0 && args[0].equals("leak");
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 30;
        long sink = 0;
        for (int round = 0; round < rounds; round++) {
            for (int i = 0; i < 1000; i++) {
                byte[] garbage = new byte[64 * 1024];
                garbage[i % garbage.length] = 1;
                sink += garbage[0];
                if (leak && i % 10 == 0) KEPT.add(new byte[16 * 1024]);
            }
            if (round % 3 == 2) System.gc();
            Thread.sleep(5);
        }
        System.out.println(KEPT.size() + sink);
    }
}
