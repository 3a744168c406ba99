using BenchmarkDotNet.Attributes;
using Microsoft.ML.OnnxRuntime;
using NeuralBasics.Activations;
using NeuralBasics.Layers;
using NeuralBasics.Losses;
using NeuralBasics.Models;
using NeuralBasics.Onnx;

namespace NeuralBasics.Benchmarks;

/// <summary>
/// Serving one sample with the MLP 784-256-10 (float): the span API that allocates nothing once
/// warm, against the matrix API on a 1 x 784 matrix and against ONNX Runtime running the same
/// model exported by NeuralBasics.Onnx (default session options, inputs and outputs bound once).
/// </summary>
public class ServingBenchmarks
{
    private InferenceSession _session = null!;
    private OrtValue _input = null!, _scores = null!, _onnxProbabilities = null!;
    private RunOptions _runOptions = null!;
    private readonly string[] _inputNames = ["features"], _outputNames = ["scores", "probabilities"];

    private Classifier<float> _model = null!;
    private float[] _row = null!;
    private float[] _probabilities = null!;
    private Matrix<float> _matrix;

    [GlobalSetup]
    public void Setup()
    {
        var net = new NetworkBuilder<float>(784, seed: 1).Dense(256, new Relu()).Dense(10).Build();
        _model = new Classifier<float>(net, SoftmaxCrossEntropyLoss.Instance);
        var random = new Random(2);
        _row = [.. Enumerable.Range(0, 784).Select(_ => (float)random.NextDouble())];
        _probabilities = new float[10];
        _matrix = new Matrix<float>(1, 784);
        _row.CopyTo(_matrix.Span);

        using var onnx = new MemoryStream();
        OnnxExport.Save(_model, onnx);
        _session = new InferenceSession(onnx.ToArray());
        _input = OrtValue.CreateTensorValueFromMemory(_row, [1, 784]);
        _scores = OrtValue.CreateTensorValueFromMemory(new float[10], [1, 10]);
        _onnxProbabilities = OrtValue.CreateTensorValueFromMemory(new float[10], [1, 10]);
        _runOptions = new RunOptions();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _session.Dispose();
        _input.Dispose();
        _scores.Dispose();
        _onnxProbabilities.Dispose();
        _runOptions.Dispose();
    }

    /// <summary>ONNX Runtime on the exported model: scores and probabilities of one row.</summary>
    [Benchmark]
    public float OnnxRuntime()
    {
        _session.Run(_runOptions, _inputNames, [_input], _outputNames, [_scores, _onnxProbabilities]);
        return _onnxProbabilities.GetTensorDataAsSpan<float>()[0];
    }

    /// <summary><c>Predict(ReadOnlySpan&lt;float&gt;)</c>: one row, no allocation.</summary>
    [Benchmark(Baseline = true)]
    public int PredictSpan() => _model.Predict(_row);

    /// <summary><c>Probabilities(row, destination)</c>.</summary>
    [Benchmark]
    public float ProbabilitiesSpan()
    {
        _model.Probabilities(_row, _probabilities);
        return _probabilities[0];
    }

    /// <summary><c>Predict(Matrix)</c> on a 1 x 784 matrix, as before the span API.</summary>
    [Benchmark]
    public int PredictMatrix() => _model.Predict(_matrix)[0];
}
