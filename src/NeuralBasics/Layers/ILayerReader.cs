using System.Numerics;
using NeuralBasics.Components;

namespace NeuralBasics.Layers;

/// <summary>
/// Builds a layer of one kind from its saved <see cref="ComponentDescription"/>, registered with
/// <see cref="Serialization.ComponentRegistry.RegisterLayer"/>. The layer itself writes the
/// description (<see cref="IDescribedComponent"/>).
/// </summary>
public interface ILayerReader
{
    /// <summary>
    /// The parameter tensors the description declares, in the layer's order, computed from the
    /// description alone (nothing allocated): the loader checks them against the file's tensors
    /// before it calls <see cref="Read{T}"/>. Counts come through <see cref="ComponentDescription.Count"/>
    /// and products through <see cref="ComponentDescription.Product"/>, so a hostile count is refused.
    /// </summary>
    IEnumerable<ParameterShape> Parameters(ComponentDescription description);

    /// <summary>
    /// Builds the layer the description describes, with parameters of the declared names and shapes
    /// (their values are then read from the file).
    /// </summary>
    ILayer<T> Read<T>(ComponentDescription description)
        where T : unmanaged, IFloatingPointIeee754<T>;
}
