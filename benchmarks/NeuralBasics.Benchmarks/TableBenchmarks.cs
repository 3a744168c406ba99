using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using NeuralBasics.Csv;
using NeuralBasics.Tables;

namespace NeuralBasics.Benchmarks;

/// <summary>
/// Tabular data at scale: 1,000,000 synthetic rows of 20 mixed columns (12 numbers with 1% NA, 8
/// categories of 3 to 50 values with 1% empty), read from CSV, fitted, transformed to float. The
/// samples/s column is rows per second; the CSV's size is printed at setup, for MB/s. Targets
/// (issue 27): parsing ≥ 100 MB/s on one core, transform ≥ 5 M rows/s, memory ≤ 2x the encoded matrix.
/// </summary>
[MemoryDiagnoser]
public class TableBenchmarks
{
    /// <summary>Rows per operation, for the samples/s column.</summary>
    public const int BatchSize = 1_000_000;

    private const int Numeric = 12, Categorical = 8;
    private string _path = "";
    private Table _table = null!;
    private TableSchema _schema = null!;
    private Matrix<float> _features;

    [GlobalSetup]
    public void Setup()
    {
        _path = Path.Combine(Path.GetTempPath(), $"nb-table-{Environment.ProcessId}.csv");
        var random = new Random(1);
        int[] levels = [3, 4, 5, 6, 8, 10, 12, 16];
        using (var writer = new StreamWriter(_path, false, new UTF8Encoding(false)))
        {
            writer.WriteLine(string.Join(",", Enumerable.Range(0, Numeric).Select(j => $"x{j}").Concat(Enumerable.Range(0, Categorical).Select(j => $"c{j}"))) + ",label");
            var line = new StringBuilder();
            for (int i = 0; i < BatchSize; i++)
            {
                line.Clear();
                for (int j = 0; j < Numeric; j++)
                    line.Append(random.NextDouble() < 0.01 ? "NA" : (random.NextDouble() * 200 - 100).ToString("F3", CultureInfo.InvariantCulture)).Append(',');
                for (int j = 0; j < Categorical; j++)
                    line.Append(random.NextDouble() < 0.01 ? "" : $"cat{random.Next(levels[j])}").Append(',');
                line.Append(random.Next(2) == 0 ? "no" : "yes");
                writer.WriteLine(line);
            }
        }
        _table = CsvTable.Read(_path);
        _schema = TableSchema.Fit(_table, "label");
        _features = new Matrix<float>(BatchSize, _schema.FeatureCount);
        _features.Span.Fill(1);
        Console.WriteLine($"// CSV {new FileInfo(_path).Length / 1e6:F1} MB; {_schema.FeatureCount} features; encoded float matrix {BatchSize * 4.0 * _schema.FeatureCount / 1e6:F0} MB");
    }

    [GlobalCleanup]
    public void Cleanup() => File.Delete(_path);

    [Benchmark]
    public Table ReadCsv() => CsvTable.Read(_path);

    [Benchmark]
    public TableSchema Fit() => TableSchema.Fit(_table, "label");

    /// <summary>Into a new matrix: includes the first touch of its 336 MB, which a VM can make the larger part.</summary>
    [Benchmark]
    public Matrix<float> Transform() => _schema.Transform<float>(_table);

    /// <summary>Into a matrix allocated once: the encoding itself.</summary>
    [Benchmark]
    public void TransformInto() => _schema.TransformInto<float>(_table, _features.AsSpan());
}
