package dev.vgrad.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** Shards from a Spark table (the Parquet path): label column anywhere, numeric columns of any type, errors naming row and column. */
class TableShardsTest {
    static final StructType SCHEMA = new StructType().add("a", DataTypes.DoubleType).add("label", DataTypes.IntegerType)
            .add("b", DataTypes.FloatType);

    @Test
    void featuresAreTheOtherColumnsInOrderAndIndicesFollowTheTable() {
        List<Row> rows = List.of(RowFactory.create(0.5, 1, 2f), RowFactory.create(1.5, 0, 3f), RowFactory.create(2.5, 2, 4f));
        List<Shard> shards = Shards.of(SparkTests.session().createDataFrame(rows, SCHEMA).coalesce(1), "label", 3).collect();
        assertEquals(1, shards.size());
        Shard s = shards.get(0);
        assertEquals(2, s.features);
        assertArrayEquals(new float[] {0.5f, 2f, 1.5f, 3f, 2.5f, 4f}, s.x);
        assertArrayEquals(new int[] {1, 0, 2}, s.y);
        assertArrayEquals(new long[] {0, 1, 2}, s.index);
    }

    @Test
    void aLabelOutOfRangeIsReportedWithItsRow() {
        List<Row> rows = List.of(RowFactory.create(0.5, 1, 2f), RowFactory.create(1.5, 7, 3f));
        Exception e = assertThrows(Exception.class,
                () -> Shards.of(SparkTests.session().createDataFrame(rows, SCHEMA).coalesce(1), "label", 3).collect());
        String all = e.toString() + (e.getCause() == null ? "" : e.getCause().toString());
        assertTrue(all.contains("row 1: label 'label' = 7.0 is not a class in [0, 3)"), all);
        assertThrows(IllegalArgumentException.class, () -> Shards.of(SparkTests.session().createDataFrame(rows, SCHEMA), "y", 3));
    }
}
