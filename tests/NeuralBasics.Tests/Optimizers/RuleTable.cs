using NeuralBasics.Optimizers;

namespace NeuralBasics.Tests.Optimizers;

/// <summary>
/// Everything the shared update-rule tests need to know about one rule. A new rule is its file in
/// <c>Optimizers/</c> and one row in <see cref="RuleTable.All"/>: every rule test (hand-computed
/// iterates, convergence, state, allocation, bad input, subnormal state, the property tests) picks
/// it up from here.
/// </summary>
/// <param name="Name">The rule's type name.</param>
/// <param name="WithRate">The rule at a given learning rate, its other settings at their defaults.</param>
/// <param name="Standard">
/// The rule as the hand-computed iterates used it: lr 0.1 (1 for AdaDelta), μ 0.9, ρ 0.9 (0.95
/// for AdaDelta), β 0.9/0.999 and the default ε.
/// </param>
/// <param name="FirstThreeIterates">
/// The first three iterates (w₁, w₂ each) on f(w) = 0.5·(w₁² + 4·w₂²) from (1, −1), computed
/// independently from the rule's published formula (a plain Python transcription, in double).
/// </param>
/// <param name="ForValley">The rule tuned for the valley f = 0.5·(x² + 50y²).</param>
/// <param name="ValleyBudget">Steps within which <paramref name="ForValley"/> reaches |w| &lt; 1e-4 from (1, 1) (measured counts in comments).</param>
public sealed record RuleCase(string Name, Func<double, UpdateRule> WithRate, Func<UpdateRule> Standard, double[] FirstThreeIterates,
    Func<UpdateRule> ForValley, int ValleyBudget)
{
    /// <summary>The name, as a theory's display.</summary>
    public override string ToString() => Name;
}

/// <summary>The rows: one per first-order rule, simple to complex.</summary>
public static class RuleTable
{
    public static readonly RuleCase[] All =
    [
        new("Sgd", lr => new Sgd(lr), () => new Sgd(0.1),
            [0.9, -0.6, 0.81, -0.36, 0.7290000000000001, -0.216],
            () => new Sgd(0.039), 300), // 232 steps at lr 0.039, just below the stability limit 2/50
        new("Momentum", lr => new Momentum(lr), () => new Momentum(0.1, mu: 0.9),
            [0.9, -0.6, 0.72, 1.1102230246251565e-16, 0.48599999999999993, 0.5400000000000003],
            () => new Momentum(0.0614, mu: 0.566), 60), // 47; the optimal heavy-ball settings for κ = 50
        new("Nesterov", lr => new Nesterov(lr), () => new Nesterov(0.1, mu: 0.9),
            [0.81, -0.24, 0.5751, 0.26639999999999997, 0.3273209999999999, 0.433296],
            () => new Nesterov(0.02, mu: 0.752), 100), // 76; lr = 1/L, μ = (√κ − 1)/(√κ + 1)
        new("AdaGrad", lr => new AdaGrad(lr), () => new AdaGrad(0.1),
            [0.900000001, -0.9000000002499999, 0.8331035282939266, -0.8331035272017979, 0.7804561830893826, -0.7804561817834232],
            () => new AdaGrad(0.5), 30), // 17
        new("RmsProp", lr => new RmsProp(lr), () => new RmsProp(0.1, rho: 0.9),
            [0.6837722439831617, -0.683772236483162, 0.4988706201172374, -0.4988706102019621, 0.36918056742779404, -0.3691805567234424],
            () => new RmsProp(0.01), 200), // 137
        new("Adam", lr => new Adam(lr), () => new Adam(0.1),
            [0.900000001, -0.9000000002499999, 0.8004122297123382, -0.8004122281815201, 0.701586274504415, -0.7015862721668379],
            () => new Adam(0.1), 120), // 82
        new("AdaDelta", lr => new AdaDelta(lr), () => new AdaDelta(),
            [0.9955279087656892, -0.9955278668400828, 0.9910087481491854, -0.9910086633067896, 0.9864645648849506, -0.986464436705264],
            () => new AdaDelta(), 600), // 467
        new("Nadam", lr => new Nadam(lr), () => new Nadam(0.1),
            // PyTorch's NAdam (momentum_decay ψ = 0.004), transcribed from its documented algorithm.
            [0.894354823220913, -0.894354822428574, 0.8199730715315754, -0.8199730701835914, 0.7527292676155415, -0.7527292657630863],
            () => new Nadam(0.05), 150), // 107
        new("AdamW", lr => new AdamW(lr), () => new AdamW(0.1, weightDecay: 0.1),
            // PyTorch's AdamW (decoupled decay λ = 0.1), transcribed from its documented algorithm.
            [0.890000001, -0.8900000002499999, 0.7815718569541611, -0.7815718554276766, 0.6751012231892007, -0.6751012208655042],
            () => new AdamW(0.1), 120),
        new("Adamax", lr => new Adamax(lr), () => new Adamax(0.1),
            [0.900000001, -0.9000000002499999, 0.8051683281175395, -0.8051683266951032, 0.7154994747395158, -0.7154994727207672],
            () => new Adamax(0.1), 160), // 117
    ];

    /// <summary>The row of the rule named <paramref name="name"/>.</summary>
    public static RuleCase Named(string name) => All.Single(rule => rule.Name == name);

    /// <summary>Every rule's name, for theories.</summary>
    public static TheoryData<string> Names() => new(All.Select(rule => rule.Name));
}
