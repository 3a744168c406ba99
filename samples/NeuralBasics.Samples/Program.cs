using System.Diagnostics;
using NeuralBasics;
using NeuralBasics.Kernels;

// NeuralBasics main sample. For now it shows the numeric core that training is built on: the
// three matrix products of a linear layer's forward and backward pass, the stable softmax, and
// how fast the matrix multiply runs on this machine.

const int batch = 128, features = 784, classes = 10;
var random = new Random(42);
Matrix<float> Random(int rows, int columns, float scale)
{
    var m = new Matrix<float>(rows, columns);
    foreach (ref float x in m.Span)
        x = (float)(random.NextDouble() * 2 - 1) * scale;
    return m;
}

var x = Random(batch, features, 1f);        // a mini-batch of inputs
var w = Random(features, classes, 0.01f);   // weights
var b = Random(1, classes, 0.01f);          // biases

// Forward: S = X·W + b, then P = softmax(S) row by row.
var scores = new Matrix<float>(batch, classes);
Gemm.Multiply(x, w, scores);
RowOps.AddRowVector<float>(scores, b.Row(0), scores);
var probabilities = new Matrix<float>(batch, classes);
RowOps.SoftmaxRows<float>(scores, probabilities);
var predicted = new int[batch];
RowOps.RowArgMax<float>(scores, predicted);
Console.WriteLine($"Forward: scores {scores}, first row of probabilities:");
Console.WriteLine("  " + string.Join(" ", probabilities.Row(0).ToArray().Select(p => p.ToString("F3"))));
Console.WriteLine($"  predicted classes of the first 10 samples: {string.Join(", ", predicted.Take(10))}");

// Backward, with some upstream gradient dS: dW = Xᵀ·dS, db = column sums of dS, dX = dS·Wᵀ.
var dScores = Random(batch, classes, 1f);
var dW = new Matrix<float>(features, classes);
var db = new float[classes];
var dX = new Matrix<float>(batch, features);
Gemm.MultiplyTransposeA(x, dScores, dW);
RowOps.ColumnSums<float>(dScores, db);
Gemm.MultiplyTransposeB(dScores, w, dX);
Console.WriteLine($"Backward: dW {dW}, db [{classes}], dX {dX}");

// How fast is the matrix multiply here? A hidden layer's forward product, [128x784]·[784x256].
var a = Random(128, 784, 1f);
var h = Random(784, 256, 1f);
var c = new Matrix<float>(128, 256);
foreach (int threads in new[] { 1, Environment.ProcessorCount })
{
    for (int i = 0; i < 20; i++)
        Gemm.Multiply(a, h, c, maxDegreeOfParallelism: threads);
    const int reps = 400;
    var watch = Stopwatch.StartNew();
    for (int i = 0; i < reps; i++)
        Gemm.Multiply(a, h, c, maxDegreeOfParallelism: threads);
    double seconds = watch.Elapsed.TotalSeconds / reps;
    Console.WriteLine($"GEMM [128x784]·[784x256] on {threads} thread(s): {2.0 * 128 * 784 * 256 / seconds / 1e9:F1} GFLOP/s " +
                      $"(a rough figure: benchmarks/ measures it properly)");
}
