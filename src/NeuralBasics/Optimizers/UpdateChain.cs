namespace NeuralBasics.Optimizers;

/// <summary>
/// What turns gradients into a parameter change: zero or more <see cref="IGradientTransform"/>s,
/// applied in order to the gradients of every tensor, then an <see cref="UpdateRule"/> applied to
/// each tensor — <c>new UpdateChain([new ClipByGlobalNorm(5)], new Adam(0.01))</c>. A rule alone
/// converts to a chain without transforms, so anything that takes a chain takes a rule.
/// </summary>
public sealed record UpdateChain
{
    /// <summary>Creates the chain.</summary>
    /// <exception cref="ArgumentNullException">The rule, the list or one of its transforms is null.</exception>
    public UpdateChain(IReadOnlyList<IGradientTransform> transforms, UpdateRule rule)
    {
        ArgumentNullException.ThrowIfNull(transforms);
        ArgumentNullException.ThrowIfNull(rule);
        if (transforms.Any(t => t is null))
            throw new ArgumentNullException(nameof(transforms), "A transform of the chain is null.");
        Transforms = [.. transforms];
        Rule = rule;
    }

    /// <summary>The transforms, in the order they run.</summary>
    public IReadOnlyList<IGradientTransform> Transforms { get; }

    /// <summary>The update rule, the last link.</summary>
    public UpdateRule Rule { get; }

    /// <summary>A chain of <paramref name="rule"/> alone.</summary>
    public static implicit operator UpdateChain(UpdateRule rule) => new([], rule);

    /// <summary>The transforms and the rule, in order.</summary>
    public override string ToString() => string.Join(" → ", Transforms.Select(t => t.ToString()).Append(Rule.ToString()));
}
