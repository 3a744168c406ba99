using System.Numerics;

namespace NeuralBasics.Activations;

/// <summary>
/// An element-wise activation <c>y = f(x)</c> with its derivative beside it. One object serves
/// <see cref="float"/> and <see cref="double"/> and holds nothing that changes.
/// </summary>
public interface IActivation
{
    /// <summary><c>y[i] = f(x[i])</c>. <paramref name="y"/> may be <paramref name="x"/> itself.</summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    void Forward<T>(ReadOnlySpan<T> x, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>
    /// <c>dx[i] = dy[i] · f'(x[i])</c>, given the forward input <paramref name="x"/> and output
    /// <paramref name="y"/> (each activation uses whichever gives its derivative most cheaply and stably).
    /// </summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    void Backward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>;
}

/// <summary>Length checks shared by the activations.</summary>
internal static class ActivationChecks
{
    public static void Forward<T>(ReadOnlySpan<T> x, Span<T> y)
    {
        if (x.Length != y.Length)
            throw new ArgumentException($"The input has {x.Length} elements but the output {y.Length}.", nameof(y));
    }

    public static void Backward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx)
    {
        if (x.Length != y.Length || x.Length != dy.Length || x.Length != dx.Length)
            throw new ArgumentException(
                $"x, y, dy and dx must have one length; got {x.Length}, {y.Length}, {dy.Length} and {dx.Length}.", nameof(dx));
    }
}
