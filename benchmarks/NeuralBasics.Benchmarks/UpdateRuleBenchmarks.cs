using BenchmarkDotNet.Attributes;
using NeuralBasics.Optimizers;

namespace NeuralBasics.Benchmarks;

/// <summary>
/// One Adam step over the MLP 784-256-10's first-layer weights (200,704 floats), with every eighth
/// gradient zero (a pixel dark in the whole batch), and with or without first moments sitting in
/// the subnormal range, where x86 cores take a slow path. In training a moment that decays by β1
/// each step spends about 150 steps there; here β1 = 0.9999999 keeps it there for the whole run
/// unless the rule flushes it (which it does, so both rows should read the same).
/// </summary>
public class UpdateRuleBenchmarks
{
    private const int Length = 784 * 256;

    private readonly Adam _rule = new(1e-3, beta1: 0.9999999);
    private float[] _w = [], _g = [];
    private AdamState<float> _state = null!;

    /// <summary>True: one first moment in eight starts subnormal (1e-39).</summary>
    [Params(false, true)]
    public bool SubnormalMoments { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        _w = new float[Length];
        _g = new float[Length];
        _state = (AdamState<float>)_rule.CreateState<float>(Length);
        for (int i = 0; i < Length; i++)
        {
            _g[i] = i % 8 == 0 ? 0 : (float)(random.NextDouble() - 0.5) * 1e-2f;
            _state.M[i] = i % 8 == 0 && SubnormalMoments ? 1e-39f : _g[i];
            _state.V[i] = _g[i] * _g[i] + 1e-6f;
        }
    }

    [Benchmark]
    public void AdamStep200704() => _rule.Apply<float>(_w, _g, _state);
}
