namespace NeuralBasics.Components;

/// <summary>
/// A component (layer, activation, loss, regularizer, score function) that says how it is saved:
/// a kind name and its hyperparameters, written into a <see cref="ComponentDescription"/>. Its
/// parameter tensors are saved by name beside the description. Reading it back is the job of the
/// reader registered for its kind with <see cref="Serialization.ComponentRegistry"/>.
/// </summary>
/// <example>
/// <code>
/// public string Kind => "scale";
/// public void Describe(ComponentDescription description)
/// {
///     description.Set("size", InputCount);
///     description.Set("prefix", "scale0.");
/// }
/// </code>
/// </example>
public interface IDescribedComponent
{
    /// <summary>The name its description is saved under (<c>dense</c>, <c>relu</c>, <c>softmax_cross_entropy</c>); unique within its category.</summary>
    string Kind { get; }

    /// <summary>Writes the hyperparameters that rebuild this component (not its tensors, not its kind: those are written for it).</summary>
    void Describe(ComponentDescription description);
}
