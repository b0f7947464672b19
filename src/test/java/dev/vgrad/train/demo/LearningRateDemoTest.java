package dev.vgrad.train.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vgrad.train.demo.LearningRateDemo.Curve;
import java.util.List;
import org.junit.jupiter.api.Test;

class LearningRateDemoTest {
    @Test
    void tooSmallCrawlsGoodFallsTooHighIsStopped() {
        List<Curve> c = LearningRateDemo.runAll(2, 1);
        Curve small = c.get(0), good = c.get(1), high = c.get(2);
        assertEquals(-1, small.diverged());
        assertEquals(-1, good.diverged());
        assertTrue(good.finalLoss() < 0.6 * small.finalLoss(), "good " + good.finalLoss() + " small " + small.finalLoss());
        assertTrue(small.finalLoss() > 1.5, "too small still near the start: " + small.finalLoss());
        assertTrue(high.diverged() >= 0, "too high should be stopped");
        assertEquals(high.diverged() + 1, high.losses().length);
        assertTrue(high.message().contains("Try a lower learning rate"), high.message());
        // all three start from the same weights on the same batches
        assertEquals(small.losses()[0], good.losses()[0], 0.0);
        assertEquals(small.losses()[0], high.losses()[0], 0.0);
        String s = LearningRateDemo.summary(c);
        assertEquals(3, s.lines().count(), s);
        assertTrue(s.contains("(too high): diverged"), s);
    }
}
