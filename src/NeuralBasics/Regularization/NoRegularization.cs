using System.Numerics;
using NeuralBasics.Components;

namespace NeuralBasics.Regularization;

/// <summary>No penalty: <c>R(W) = 0</c>.</summary>
public sealed class NoRegularization : IRegularizer, IDescribedComponent
{
    /// <inheritdoc/>
    public string Kind => "none";

    /// <summary>Nothing: the kind is the whole description.</summary>
    public void Describe(ComponentDescription description) { }

    /// <summary>True: the gradient is 0.</summary>
    public bool IsElementwise => true;

    /// <summary>The one instance.</summary>
    public static NoRegularization Instance { get; } = new();

    private NoRegularization()
    {
    }

    /// <inheritdoc/>
    public T Penalty<T>(ReadOnlySpan<T> weights)
        where T : unmanaged, IFloatingPointIeee754<T> => T.Zero;

    /// <inheritdoc/>
    public void AddGradient<T>(ReadOnlySpan<T> weights, Span<T> gradient)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (weights.Length != gradient.Length)
            throw new ArgumentException($"The gradient has {gradient.Length} elements but the weights have {weights.Length}.", nameof(gradient));
    }

    /// <inheritdoc/>
    public override string ToString() => "NoRegularization";
}
